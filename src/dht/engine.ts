/**
 * The DHT's machinery: the receive path (size check before decoding, strict decoding, rate limits, then the
 * responder or the RPC layer), joining and bucket refresh (paper §2.3), handing records to new close nodes
 * (paper §2.5), expiry, and saving state. dht.ts puts the public API on top of it.
 */
import type { Identity } from "../identity/identity.ts";
import { silentLogger, type Logger } from "../log.ts";
import { realClock, type Clock, type TimerHandle } from "../util/clock.ts";
import { decode, MsgType, REQUEST_TYPES, StoreStatus, type Body, type Endpoint, type Packet } from "./codec.ts";
import * as C from "./constants.ts";
import { newCounters } from "./counters.ts";
import type { OnEvent } from "./events.ts";
import { compareDistance, equalIds, toHex, type Id } from "./id.ts";
import type { Contact } from "./k-bucket.ts";
import { Lookup, type LookupDeps, type LookupResult } from "./lookup.ts";
import { Membership } from "./membership.ts";
import { loadState, saveState, type DhtState } from "./persistence.ts";
import { RequestLimiter, type RateLimits } from "./rate-limit.ts";
import { verifyRecord, type RecordKind, type SignedRecord } from "./record.ts";
import { rankOf, RecordStore } from "./record-store.ts";
import { Responder } from "./responder.ts";
import { RoutingTable } from "./routing-table.ts";
import { Rpc, type RequestOptions, type RpcResult, type RpcTarget } from "./rpc.ts";
import { AddressTokens } from "./token.ts";
import type { DatagramTransport } from "./transport/types.ts";

export interface DhtOptions {
  identity: Identity;
  transport: DatagramTransport;
  /** @default realClock */
  clock?: Clock;
  /** @default silentLogger */
  log?: Logger;
  /** File for contacts and own records between runs (`<data-dir>/dht.json`); none in simulations. */
  statePath?: string;
  /** Nodes to join through (HOST:PORT resolved to IPv4). */
  bootstrap?: Endpoint[];
  /** The address to announce, when the operator set one. */
  advertise?: string;
  /** @default K (20) */
  k?: number;
  /** @default ALPHA (3) */
  alpha?: number;
  /** Lifetime of own records; they are republished at a third of it. @default 1 h */
  recordTtlMs?: number;
  /** Refresh buckets not looked up for this long. @default 1 h (paper §2.3) */
  refreshIntervalMs?: number;
  /** Requests per second answered per source address / IP. */
  rateLimits?: RateLimits;
  storeLimits?: { maxKeys?: number; maxBytes?: number };
}

export class DhtEngine {
  readonly id: Id;
  readonly nodeId: string;
  readonly counters = newCounters();
  readonly clock: Clock;
  readonly log: Logger;
  readonly table: RoutingTable;
  readonly store: RecordStore;
  readonly rpc: Rpc;
  readonly k: number;
  readonly membership: Membership;
  private readonly responder: Responder;
  private readonly limiter: RequestLimiter;
  private readonly lookupDeps: LookupDeps;
  private readonly addressListeners = new Set<(address: string) => void>();
  private readonly harvested = new Map<string, number>();
  protected saved: DhtState | undefined;
  protected running = false;
  private joining: Promise<number> | undefined;
  private retryMs = C.BOOTSTRAP_RETRY_MS;
  private timers: { tick?: TimerHandle; save?: TimerHandle; retry?: TimerHandle } = {};
  private dirty = false;
  private everSaved = false;
  private joinedOnce = false;
  /** Called after a successful join (the publisher restores saved records then). */
  protected onJoined?: () => void;
  /** Called with every PONG's view of our address (external-address voting). */
  protected onObserved?: (voter: string, observed: Endpoint) => void;
  /** Whether the external address is settled (dht.ts). */
  protected addressKnown?: () => boolean;
  /** Own records to save, filled in by dht.ts. */
  protected ownRecords: () => DhtState["published"] = () => [];

  constructor(readonly opts: DhtOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger;
    this.id = opts.identity.nodeId;
    this.nodeId = toHex(this.id);
    this.k = opts.k ?? C.K;
    this.table = new RoutingTable(this.id, this.k);
    this.store = new RecordStore({ self: this.id, clock: this.clock, ...opts.storeLimits });
    this.limiter = new RequestLimiter(this.clock, opts.rateLimits);
    this.rpc = new Rpc(opts.transport, this.clock, opts.identity, this.counters, (p, a, port, proven) => this.onReply(p, a, port, proven));
    this.membership = new Membership({
      table: this.table,
      clock: this.clock,
      ping: (to, wantProof) => this.request(to, { type: MsgType.PING }, { wantProof }),
      onAdded: (c) => this.onAdded(c),
    });
    this.responder = new Responder({
      identity: opts.identity,
      table: this.table,
      store: this.store,
      tokens: new AddressTokens(this.clock),
      counters: this.counters,
      send: (data, address, port) => this.rpc.sendRaw(data, address, port),
    });
    this.lookupDeps = {
      self: this.id,
      clock: this.clock,
      request: (to, body, o) => this.request(to, body, o),
      wantsProof: (idHex, address, port) => this.membership.wantsProof(idHex, address, port),
      onFailure: (idHex) => this.membership.failed(idHex),
      validRecords: (kind, key, records) => this.validRecords(kind, key, records),
    };
  }

  get port(): number {
    return this.opts.transport.port;
  }

  /** Loads saved contacts, starts listening, and joins in the background. */
  async start(): Promise<void> {
    if (this.opts.statePath) {
      try {
        this.saved = await loadState(this.opts.statePath);
      } catch (e) {
        this.log.warn("ignoring an unreadable DHT state file", { path: this.opts.statePath, error: (e as Error).message });
      }
      if (this.saved && this.saved.nodeId !== this.nodeId) {
        this.log.warn("the DHT state file belongs to another node id; ignoring it", { path: this.opts.statePath });
        this.saved = undefined;
      }
    }
    this.opts.transport.onDatagram((d, a, p, t) => this.receive(d, a, p, t));
    this.running = true;
    this.scheduleTick();
    void this.join();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of Object.values(this.timers)) this.clock.clearTimeout(t);
    this.rpc.close();
    await this.saveNow(true);
    this.opts.transport.close();
  }

  // ---- receiving

  private receive(data: Uint8Array, rawAddress: string, port: number, truncated: boolean): void {
    const c = this.counters;
    c.rx++;
    c.rxBytes += data.length;
    if (truncated || data.length > C.MAX_DATAGRAM) {
      c.dropped.oversized++;
      return;
    }
    let p: Packet;
    try {
      p = decode(data);
    } catch {
      c.dropped.malformed++;
      return;
    }
    if (equalIds(p.sender, this.id)) {
      c.dropped.fromSelf++;
      return;
    }
    const address = rawAddress.startsWith("::ffff:") ? rawAddress.slice(7) : rawAddress;
    try {
      if (REQUEST_TYPES.has(p.body.type)) {
        if (!this.limiter.allow(address, port)) {
          c.dropped.rateLimited++;
          return;
        }
        this.harvest(address);
        this.responder.handle(p, address, port, data.length);
        this.membership.saw(p.sender, address, port, false);
      } else this.rpc.handleReply(p, address, port);
    } catch (e) {
      // A bug must not take the node down; it shows in the log and the counters.
      c.dropped.malformed++;
      this.log.warn("error while handling a datagram", { from: `${address}:${port}`, error: (e as Error).message });
    }
  }

  private onReply(p: Packet, address: string, port: number, proven: boolean): void {
    this.harvest(address);
    this.membership.saw(p.sender, address, port, proven);
    if (p.body.type === MsgType.PONG && (proven || this.membership.isProven(toHex(p.sender), address, port))) this.onObserved?.(toHex(p.sender), p.body.observed);
  }

  request(to: RpcTarget, body: Body, opts: RequestOptions = {}): Promise<RpcResult> {
    this.harvest(to.address);
    return this.rpc.request(to, body, opts);
  }

  // ---- addresses seen in DHT traffic (the topology traces them, thesis §3.1.1)

  onAddress(cb: (address: string) => void): () => void {
    this.addressListeners.add(cb);
    return () => this.addressListeners.delete(cb);
  }

  private harvest(address: string): void {
    if (this.addressListeners.size === 0) return;
    const now = this.clock.now();
    const last = this.harvested.get(address);
    if (last !== undefined && now - last < C.REFRESH_INTERVAL_MS) return;
    if (this.harvested.size >= 10_000) this.harvested.clear();
    this.harvested.set(address, now);
    for (const cb of this.addressListeners) {
      try {
        cb(address);
      } catch (e) {
        this.log.warn("address listener failed", { error: (e as Error).message });
      }
    }
  }

  // ---- lookups and stores

  async lookup(target: Id, kind?: RecordKind, onEvent?: OnEvent): Promise<LookupResult> {
    // A lookup issued while the node is still joining waits for the join rather than failing on an empty table.
    if (this.table.size === 0 && this.joining) await this.joining;
    return this.lookupNow(target, kind, onEvent);
  }

  private lookupNow(target: Id, kind?: RecordKind, onEvent?: OnEvent): Promise<LookupResult> {
    this.counters.lookups++;
    this.table.markLookup(target, this.clock.now());
    const initial = this.table.closest(target, this.k);
    return new Lookup(this.lookupDeps, { target, initial, kind, k: this.k, alpha: this.opts.alpha, onEvent }).done;
  }

  private validRecords(kind: RecordKind, key: Id, records: SignedRecord[]): SignedRecord[] {
    const nowS = this.clock.now() / 1000;
    return records.filter((r) => {
      let ok = r.expiresAt > nowS && verifyRecord(kind, key, r);
      if (ok) {
        try {
          rankOf(kind, r);
        } catch {
          ok = false;
        }
      }
      if (!ok) this.counters.dropped.badRecord++;
      return ok;
    });
  }

  /** Stores a signed record at the k closest nodes (and here, if this node is one of them). */
  async storeAtClosest(kind: RecordKind, key: Id, record: SignedRecord, onEvent?: OnEvent): Promise<{ replicas: number; targets: number }> {
    const found = await this.lookup(key, undefined, onEvent);
    const targets = found.closest.slice(0, this.k);
    const last = targets[targets.length - 1];
    const selfIn = targets.length < this.k || (last !== undefined && compareDistance(key, this.id, last.id) < 0);
    const acks = await Promise.all(
      targets.map((c) =>
        this.request(c, { type: MsgType.STORE, kind, key, record }).then((r) => {
          const status = r.ok && r.packet.body.type === MsgType.STORED ? r.packet.body.status : undefined;
          const ok = status === StoreStatus.STORED || status === StoreStatus.UNCHANGED;
          onEvent?.({ type: "store", to: `${c.address}:${c.port}`, ok, status: status === undefined ? "no answer" : STATUS_NAMES[status] });
          return ok;
        }),
      ),
    );
    let replicas = acks.filter(Boolean).length;
    if (selfIn) {
      const outcome = this.store.put(kind, key, record);
      if (outcome === "stored" || outcome === "unchanged") replicas++;
    }
    return { replicas, targets: targets.length + (selfIn ? 1 : 0) };
  }

  // ---- joining and upkeep

  /** Pings the bootstrap nodes and saved contacts, then looks up our own id and refreshes (paper §2.3). */
  join(): Promise<number> {
    this.joining ??= this.doJoin().finally(() => (this.joining = undefined));
    return this.joining;
  }

  private async doJoin(): Promise<number> {
    const seeds: RpcTarget[] = this.table.size ? [] : [...(this.opts.bootstrap ?? []), ...(this.saved?.contacts ?? [])];
    if (this.table.size === 0 && seeds.length === 0) return 0; // the first node of a network
    await Promise.all(seeds.map((s) => this.request(s, { type: MsgType.PING }, { wantProof: true })));
    if (!this.running) return this.table.size;
    if (this.table.size === 0) {
      this.log.warn("no bootstrap node answered; retrying", { seeds: seeds.length, retryMs: this.retryMs });
      this.scheduleRetry();
      return 0;
    }
    await this.lookupNow(this.id);
    await Promise.all(this.table.refreshTargets(this.clock.now(), 0, true).map((t) => this.lookupNow(t)));
    await this.askForOurAddress();
    if (this.table.size < this.k) {
      // Few peers: the network is small, or we joined through a node that was itself still joining and knew
      // nobody yet. Look again later (backing off), so a node is never left with a lone contact.
      this.scheduleRetry();
    } else this.retryMs = C.BOOTSTRAP_RETRY_MS;
    if (!this.joinedOnce) this.log.info("joined the DHT", { peers: this.table.size });
    this.joinedOnce = true;
    this.onJoined?.();
    this.markDirty();
    return this.table.size;
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    this.clock.clearTimeout(this.timers.retry);
    this.timers.retry = this.clock.setTimeout(() => void this.join(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, C.BOOTSTRAP_RETRY_MAX_MS);
  }

  private scheduleTick(): void {
    const every = Math.min(C.MAINTENANCE_TICK_MS, this.opts.refreshIntervalMs ?? C.MAINTENANCE_TICK_MS);
    this.timers.tick = this.clock.setTimeout(() => {
      if (!this.running) return;
      this.tick().finally(() => this.running && this.scheduleTick());
    }, every * (0.9 + Math.random() * 0.2));
  }

  private async tick(): Promise<void> {
    this.store.sweep();
    if (this.table.size === 0) {
      await this.join();
      return;
    }
    await this.askForOurAddress();
    // One refresh lookup at a time: upkeep must not crowd out the node's own queries.
    for (const t of this.table.refreshTargets(this.clock.now(), this.opts.refreshIntervalMs ?? C.REFRESH_INTERVAL_MS)) {
      if (!this.running) return;
      await this.lookupNow(t);
    }
  }

  /** While our external address is not settled, ping a few contacts: each PONG is one vote (external-address.ts). */
  private async askForOurAddress(): Promise<void> {
    if (this.addressKnown?.()) return;
    const some = this.table.all().sort(() => Math.random() - 0.5).slice(0, C.EXTERNAL_ADDRESS_QUORUM + 2);
    await Promise.all(some.map((c) => this.request(c, { type: MsgType.PING })));
  }

  /** A new contact entered the table: hand it the records it is now among the closest for (paper §2.5). */
  private onAdded(c: Contact): void {
    this.markDirty();
    if (this.store.keys === 0 || this.store.keys > 5000) return;
    let sent = 0;
    for (const e of this.store.entries()) {
      const closest = this.table.closest(e.key, this.k);
      if (!closest.includes(c)) continue;
      const nearestOther = closest.find((x) => x !== c);
      // Only the nearest holder hands it over, so a join draws one copy, not k.
      if (nearestOther && compareDistance(e.key, nearestOther.id, this.id) < 0) continue;
      for (const record of e.records) void this.request(c, { type: MsgType.STORE, kind: e.kind, key: e.key, record });
      if (++sent >= 64) break;
    }
  }

  // ---- state in the data dir

  protected markDirty(): void {
    if (!this.opts.statePath) return;
    this.dirty = true;
    if (!this.timers.save && this.running)
      this.timers.save = this.clock.setTimeout(() => void this.saveNow(), this.everSaved ? C.SAVE_INTERVAL_MS : C.FIRST_SAVE_MS);
  }

  private async saveNow(force = false): Promise<void> {
    this.timers.save = undefined;
    if (!this.opts.statePath || (!this.dirty && !force)) return;
    this.dirty = false;
    this.everSaved = true;
    const contacts = this.table
      .all()
      .sort((a, b) => a.failures - b.failures || b.lastSeen - a.lastSeen)
      .slice(0, C.SAVED_CONTACTS);
    // Keep the saved neighbours if we know nobody right now (stopping before the join finished).
    const keep = contacts.length ? contacts : (this.saved?.contacts ?? []);
    try {
      await saveState(this.opts.statePath, { nodeId: this.nodeId, port: this.port, contacts: keep, published: this.ownRecords() });
    } catch (e) {
      this.log.warn("could not save the DHT state", { path: this.opts.statePath, error: (e as Error).message });
    }
  }
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(StoreStatus).map(([k, v]) => [v, k.toLowerCase()]));
