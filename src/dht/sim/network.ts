/**
 * Many DHT nodes in one process over the in-memory hub on virtual time: the multi-node tests and
 * `icon bench dht` build their networks with this. Every node is a real `Dht` with its own identity;
 * only the transport (MemoryHub) and the clock (FakeClock) are the seams' test doubles.
 */
import { generateIdentity } from "../../identity/identity.ts";
import { FakeClock } from "../../util/clock.ts";
import { MsgType } from "../codec.ts";
import { Dht, type DhtOptions } from "../dht.ts";
import type { Contact } from "../k-bucket.ts";
import { MemoryHub, type LinkModel, type Stack } from "../transport/memory-hub.ts";
import { familiesOf } from "../transport/types.ts";
import { pick, seededRandom } from "../../util/random.ts";

/** Nodes that ping their contacts at once while seeding: about 200,000 requests in flight at N = 10,000. */
const PING_BATCH = 1000;

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

  /**
   * Starts a node that bootstraps from `via` (default: a random live node; null: none); its join runs in
   * the background. `stack`: its address families (a random seed shares one with it).
   */
  async addNode(via?: Dht | null, stack: Stack = "v4"): Promise<Dht> {
    const transport = stack === "v4" ? this.hub.endpoint() : this.hub.host(stack);
    const mine = familiesOf(transport);
    const reachable = (d: Dht) => {
      const f = familiesOf(d.opts.transport);
      return (mine.v4 && f.v4) || (mine.v6 && f.v6);
    };
    const live = this.live.filter(reachable);
    const seed = via === null ? undefined : (via ?? (live.length ? pick(live, this.random) : undefined));
    const t = seed?.opts.transport;
    const seedAddress = t && (mine.v4 && familiesOf(t).v4 ? t.address : (t.address6 ?? t.address));
    const dht = new Dht({
      ...this.opts.dht,
      identity: generateIdentity(this.random),
      transport,
      clock: this.clock,
      random: this.random,
      bootstrap: seed ? [{ address: seedAddress!, port: seed.port }] : [],
    });
    this.nodes.push(dht);
    await dht.start();
    return dht;
  }

  /**
   * Grows the network to n nodes: starts them `spacingMs` of virtual time apart (each joins through a random
   * earlier node), runs until every join has finished, then lets `settleMs` pass so that nodes whose first
   * join found few peers have joined again (upkeep.ts).
   */
  async grow(n: number, spacingMs = 10, onProgress?: (started: number) => void, settleMs = 30_000): Promise<void> {
    const joins: Promise<number>[] = [];
    while (this.nodes.length < n) {
      const d = await this.addNode();
      joins.push(d.join());
      if (this.nodes.length % 100 === 0) onProgress?.(this.nodes.length);
      await this.clock.advance(spacingMs);
    }
    await this.run(Promise.all(joins));
    await this.clock.advance(settleMs);
  }

  /**
   * Grows the network to n nodes the cheap way, for simulations too large to join one by one: every routing
   * table is filled from global knowledge (per bucket up to k random nodes of its range, as a converged
   * network has), then every node pings every contact in its table. In a converged network a contact enters
   * a table on an answer or a request, so the node has heard from all of them; without the pings a seeded
   * contact would be an address that never answered, held to the reflection budget (rpc.ts) that a real
   * contact is not. An answer leaves what it leaves in the product: the address verified, an RTT sample,
   * the contact's token.
   */
  async populate(n: number, onProgress?: (done: number, step: "tables" | "pings") => void): Promise<void> {
    while (this.nodes.length < n) await this.addNode(null);
    const sorted = this.nodes.map((d) => ({ d, v: BigInt("0x" + d.nodeId) })).sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0));
    const lowerBound = (v: bigint) => {
      let lo = 0, hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid]!.v < v) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const now = this.clock.now();
    sorted.forEach(({ d, v }, index) => {
      for (let i = 0; i < 160; i++) {
        const shift = BigInt(159 - i);
        const lo = ((v >> shift) ^ 1n) << shift;
        const [a, b] = [lowerBound(lo), lowerBound(lo + (1n << shift))];
        if (a === b) {
          if (lowerBound(v >> shift << shift) + 1 === lowerBound((v >> shift << shift) + (1n << shift))) break; // alone in our subtree
          continue;
        }
        const picks = new Set<number>();
        const want = Math.min(d.k, b - a);
        while (picks.size < want) picks.add(a + Math.floor(this.random() * (b - a)));
        for (const j of picks) {
          const o = sorted[j]!.d;
          d.table.heard(o.id, o.nodeId, o.opts.transport.address, o.port, now);
        }
      }
      if (index % 1000 === 999) onProgress?.(index + 1, "tables");
    });
    for (let i = 0; i < this.nodes.length; i += PING_BATCH) {
      const batch = this.nodes.slice(i, i + PING_BATCH).map((d) => ({ d, contacts: d.table.all() }));
      // A contact whose pings were all lost (a burst of loss on either link) is asked once more.
      await this.pingAll(await this.pingAll(batch));
      onProgress?.(i + batch.length, "pings");
    }
  }

  /** Every node pings its contacts; resolves with those that did not answer. */
  private async pingAll(batch: { d: Dht; contacts: Contact[] }[]): Promise<{ d: Dht; contacts: Contact[] }[]> {
    const results = await this.run(Promise.all(batch.map(({ d, contacts }) => Promise.all(contacts.map((c) => d.request(c, { type: MsgType.PING }))))));
    return batch.map(({ d, contacts }, i) => ({ d, contacts: contacts.filter((_, j) => !results[i]![j]!.ok) }));
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
