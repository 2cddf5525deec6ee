/**
 * Many DHT nodes in one process over the in-memory hub on virtual time: the multi-node tests and
 * `icon bench dht` build their networks with this. Every node is a real `Dht` with its own identity;
 * only the transport (MemoryHub) and the clock (FakeClock) are the seams' test doubles.
 */
import { generateIdentity } from "../../identity/identity.ts";
import { FakeClock } from "../../util/clock.ts";
import { Dht, type DhtOptions } from "../dht.ts";
import { MemoryHub, type LinkModel } from "../transport/memory-hub.ts";
import { pick, seededRandom } from "./random.ts";

export interface SimOptions {
  links?: LinkModel;
  seed?: number;
  /** Options every node gets (k, alpha, TTLs...). */
  dht?: Partial<Omit<DhtOptions, "identity" | "transport" | "clock">>;
}

export class SimNetwork {
  readonly clock = new FakeClock();
  readonly hub: MemoryHub;
  readonly random: () => number;
  /** Every node ever started, in start order. */
  readonly nodes: Dht[] = [];
  private readonly dead = new Set<Dht>();

  constructor(private readonly opts: SimOptions = {}) {
    this.random = seededRandom(opts.seed ?? 1);
    this.hub = new MemoryHub(this.clock, opts.links, this.random);
  }

  get live(): Dht[] {
    return this.nodes.filter((n) => !this.dead.has(n));
  }

  isLive(n: Dht): boolean {
    return !this.dead.has(n);
  }

  /** Starts a node that bootstraps from `via` (default: a random live node); its join runs in the background. */
  async addNode(via?: Dht): Promise<Dht> {
    const live = this.live;
    const seed = via ?? (live.length ? pick(live, this.random) : undefined);
    const transport = this.hub.endpoint();
    const dht = new Dht({
      ...this.opts.dht,
      identity: generateIdentity(),
      transport,
      clock: this.clock,
      bootstrap: seed ? [{ address: seed.opts.transport.address, port: seed.port }] : [],
    });
    this.nodes.push(dht);
    await dht.start();
    return dht;
  }

  /**
   * Grows the network to n nodes: starts them `spacingMs` of virtual time apart (each joins through a random
   * earlier node) and runs until every join has finished.
   */
  async grow(n: number, spacingMs = 10, onProgress?: (started: number) => void): Promise<void> {
    const joins: Promise<number>[] = [];
    while (this.nodes.length < n) {
      const d = await this.addNode();
      joins.push(d.join());
      if (this.nodes.length % 100 === 0) onProgress?.(this.nodes.length);
      await this.clock.advance(spacingMs);
    }
    await this.run(Promise.all(joins));
  }

  /** Stops a node abruptly (no goodbye, as a crash or a cut cable). */
  kill(n: Dht): void {
    if (this.dead.has(n)) return;
    this.dead.add(n);
    void n.stop();
  }

  /** Runs virtual time until the promise settles. */
  run<T>(p: Promise<T>, maxMs = 24 * 3_600_000): Promise<T> {
    return this.clock.run(p, maxMs);
  }

  async stopAll(): Promise<void> {
    for (const n of this.live) {
      this.dead.add(n);
      await n.stop();
    }
  }
}
