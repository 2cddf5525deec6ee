/**
 * Joining and keeping the routing table alive (paper §2.3). A join pings the bootstrap nodes and saved
 * neighbours (asking each to prove its id), looks up its own id, then refreshes every bucket up to its
 * closest neighbour that is not full. Nobody answered, or too few peers found: it tries again, backing off
 * (the thesis's DHT gave up silently when its first ping was lost). A self-lookup that no joined node
 * answered (the others flag their NODES as JOINING) is repeated after a wait, so a node that started next to
 * another starting node does not take it for the whole network. Periodically: expire records, refresh
 * buckets no lookup touched for an hour, and ask a few peers for our address until it is settled.
 */
import type { Logger } from "../log.ts";
import { sleep, type Clock, type TimerHandle } from "../util/clock.ts";
import * as C from "./constants.ts";
import type { Id } from "./id.ts";
import type { RoutingTable } from "./routing-table.ts";
import type { RpcResult, RpcTarget } from "./rpc.ts";

/** Attempts of a bootstrap ping (other RPCs: RPC_ATTEMPTS): at 10% loss all 5 fail once in 4000 joins. */
const BOOTSTRAP_ATTEMPTS = 5;
/** Waits for nodes still joining, doubling (250 ms ... 4 s, about 8 s in all; then it goes on alone). */
const JOIN_WAIT_MS = 250;
const JOIN_WAIT_MAX_MS = 4000;

export interface UpkeepDeps {
  self: Id;
  table: RoutingTable;
  clock: Clock;
  log: Logger;
  k: number;
  refreshIntervalMs: number;
  /** The configured bootstrap nodes. */
  bootstrap(): RpcTarget[];
  /** Neighbours saved by the previous run. */
  saved(): RpcTarget[];
  ping(to: RpcTarget, wantProof: boolean, attempts?: number): Promise<RpcResult>;
  lookup(target: Id): Promise<{ closest: unknown[]; joining: number }>;
  /** Expires stored records. */
  sweep(): void;
  addressKnown(): boolean;
  random(): number;
  /** After every join that found peers. */
  onJoined(): void;
}

export class Upkeep {
  private joining: Promise<number> | undefined;
  private retryMs = C.BOOTSTRAP_RETRY_MS;
  private timers: { tick?: TimerHandle; retry?: TimerHandle } = {};
  private running = false;
  private joinedOnce = false;
  private reached = false;

  constructor(private readonly d: UpkeepDeps) {}

  /** The join in progress, if any (lookups on an empty table wait for it). */
  get pendingJoin(): Promise<number> | undefined {
    return this.joining;
  }

  /**
   * Whether this node's view comes from the network: its first self-lookup was answered by nodes that are
   * not themselves still joining (or it is the first node). Until then it names nobody (responder.ts); the
   * rest of the join (bucket refreshes, address votes) takes seconds more and need not be waited for.
   */
  get reachedNetwork(): boolean {
    return this.reached;
  }

  start(): void {
    this.running = true;
    this.scheduleTick();
    void this.join();
  }

  stop(): void {
    this.running = false;
    for (const t of Object.values(this.timers)) this.d.clock.clearTimeout(t);
  }

  /** Joins (or re-joins); resolves with the number of peers known afterwards. */
  join(): Promise<number> {
    this.joining ??= this.doJoin().finally(() => (this.joining = undefined));
    return this.joining;
  }

  private async doJoin(): Promise<number> {
    const { table } = this.d;
    // Ping every seed we do not hold at that address, even when others already reached us: a node whose
    // bootstrap ping was lost may meet only newer nodes that bootstrapped through it, an island that its
    // own lookups can never leave. Bootstrap pings get more attempts than other RPCs for the same reason.
    const seeds = [...this.d.bootstrap(), ...this.d.saved()].filter((s) => !this.holds(s));
    if (table.size === 0 && seeds.length === 0) {
      // The first node of a network: alone, but up (its own saved records go out, to itself for now).
      if (!this.joinedOnce) this.d.onJoined();
      this.joinedOnce = true;
      this.reached = true;
      return 0;
    }
    const before = table.size;
    await Promise.all(seeds.map((s) => this.d.ping(s, true, BOOTSTRAP_ATTEMPTS)));
    if (!this.running) return table.size;
    if (table.size === 0) {
      this.d.log.warn("no bootstrap node answered; retrying", { seeds: seeds.length, retryMs: this.retryMs });
      this.scheduleRetry();
      return 0;
    }
    // The lookups of a join: the first time, when a seed answered at last, or while peers are few. A node
    // with a full table whose bootstrap is down only pings it now and then.
    if (!this.joinedOnce || before < this.d.k || seeds.some((s) => this.holds(s))) {
      // No node that has joined answered: those that did are themselves still joining (they name nobody:
      // they know only nodes that joined through them), or the answers were lost. Wait and look again,
      // rather than take a lone contact for the network.
      let r = await this.d.lookup(this.d.self);
      for (let wait = JOIN_WAIT_MS; r.joining >= r.closest.length && wait <= JOIN_WAIT_MAX_MS && this.running; wait *= 2) {
        await sleep(this.d.clock, wait);
        r = await this.d.lookup(this.d.self);
      }
      this.reached = true;
      await Promise.all(table.refreshTargets(this.d.clock.now(), 0, true).map((t) => this.d.lookup(t)));
    }
    await this.askForOurAddress();
    // Few peers: the network is small, or we joined through a node that was itself still joining and knew
    // nobody yet. Look again later (backing off), so a node is never left with a lone contact.
    // Also while a configured bootstrap node has not answered: until it does, we may be on an island.
    if (table.size < this.d.k || this.d.bootstrap().some((s) => !this.holds(s))) this.scheduleRetry();
    else this.retryMs = C.BOOTSTRAP_RETRY_MS;
    if (!this.joinedOnce) this.d.log.info("joined the DHT", { peers: table.size });
    this.joinedOnce = true;
    this.d.onJoined();
    return table.size;
  }

  /** Whether the routing table holds a node at this address. */
  private holds(s: RpcTarget): boolean {
    return this.d.table.all().some((c) => c.address === s.address && c.port === s.port);
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    this.d.clock.clearTimeout(this.timers.retry);
    this.timers.retry = this.d.clock.setTimeout(() => void this.join(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, C.BOOTSTRAP_RETRY_MAX_MS);
  }

  private scheduleTick(): void {
    const every = Math.min(C.MAINTENANCE_TICK_MS, this.d.refreshIntervalMs);
    this.timers.tick = this.d.clock.setTimeout(() => {
      if (!this.running) return;
      this.tick().finally(() => this.running && this.scheduleTick());
    }, every * (0.9 + this.d.random() * 0.2));
  }

  private async tick(): Promise<void> {
    this.d.sweep();
    if (this.d.table.size === 0) {
      await this.join();
      return;
    }
    await this.askForOurAddress();
    // One refresh lookup at a time: upkeep must not crowd out the node's own queries.
    for (const t of this.d.table.refreshTargets(this.d.clock.now(), this.d.refreshIntervalMs)) {
      if (!this.running) return;
      await this.d.lookup(t);
    }
  }

  /**
   * While our external address is not settled, ping a few contacts: each PONG is one vote (external-address.ts).
   * A dual-stack contact is pinged at both its addresses: each family votes on its own address.
   */
  private async askForOurAddress(): Promise<void> {
    if (this.d.addressKnown()) return;
    const some = this.d.table.all().sort(() => this.d.random() - 0.5).slice(0, C.EXTERNAL_ADDRESS_QUORUM + 2);
    await Promise.all(some.flatMap((c) => (c.other ? [c, { ...c.other, id: c.id }] : [c])).map((t) => this.d.ping(t, false)));
  }
}
