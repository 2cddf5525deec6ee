/**
 * The DHT's machinery, wired from its parts: the receive path (size check before decoding, strict decoding,
 * rate limits, then the responder or the RPC layer), lookups, storing at the k closest, and handing records
 * to new close nodes (paper §2.5). Joining and refresh live in upkeep.ts, saving in state-keeper.ts; dht.ts
 * puts the public API on top.
 *
 * A request is answered whoever sent it (within the size its sender paid for, token.ts), but only a sender
 * whose address is verified (it echoed a valid address token) is taken any further: its id proof checked,
 * verification pings, the routing table, the topology's traces. A spoofed source draws one small reply.
 */
import { networkInterfaces } from "node:os";
import type { Identity } from "../identity/identity.ts";
import { silentLogger, type Logger } from "../log.ts";
import { realClock, type Clock } from "../util/clock.ts";
import { decode, Flag, MsgType, REQUEST_TYPES, type Body, type Endpoint, type Packet } from "./codec.ts";
import * as C from "./constants.ts";
import { newCounters } from "./counters.ts";
import type { OnEvent } from "./events.ts";
import { equalIds, type Id } from "./id.ts";
import type { Contact } from "./k-bucket.ts";
import { AddressScope } from "./address-scope.ts";
import { Lookup, type LookupDeps, type LookupResult } from "./lookup.ts";
import { Membership } from "./membership.ts";
import { checkRequestProof } from "./proof.ts";
import { AddressHarvest } from "./harvest.ts";
import type { DhtState } from "./persistence.ts";
import { RequestLimiter, type RateLimits } from "./rate-limit.ts";
import type { RecordKind, SignedRecord } from "./record.ts";
import { RecordStore } from "./record-store.ts";
import { Replication, type StoreOutcomes } from "./replication.ts";
import { Responder } from "./responder.ts";
import { RoutingTable } from "./routing-table.ts";
import { Rpc, type RequestOptions, type RpcResult, type RpcTarget } from "./rpc.ts";
import { StateKeeper } from "./state-keeper.ts";
import { AddressTokens } from "./token.ts";
import { familiesOf, type DatagramTransport } from "./transport/types.ts";
import { Upkeep } from "./upkeep.ts";
import { toHex } from "../util/hex.ts";
import { familyOf } from "../util/ipv6.ts";

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
  /**
   * Whether this node is a client over a family (codec.ts Flag.CLIENT): others answer it but keep it out of
   * their tables. A home node may be unreachable over IPv4 (NAT) and reachable over IPv6. @default never
   */
  client?: (family: 4 | 6) => boolean;
  /**
   * Where the node's random choices come from (refresh targets, timer jitter): a seeded generator makes a
   * simulation repeat exactly. @default the CSPRNG for ids, Math.random for jitter
   */
  random?: () => number;
}

export class DhtNodeCore {
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
  private readonly harvest: AddressHarvest;
  private readonly upkeep: Upkeep;
  private readonly state: StateKeeper;
  private readonly replication: Replication;
  private readonly tokens: AddressTokens;
  /** Where contacts named by other nodes may be queried (address-scope.ts). */
  readonly scope: AddressScope;
  /** The address families the transport reaches. */
  readonly families: { v4: boolean; v6: boolean };
  /** What the previous run saved (neighbours, own records). */
  protected saved: DhtState | undefined;
  protected running = false;
  /** Called after every join that found peers (dht.ts restores saved records then). */
  protected onJoined?: () => void;
  /** Called with every proven PONG's view of our address and the voter's address (external-address voting). */
  protected onObserved?: (voterAddress: string, observed: Endpoint) => void;
  /** Whether the external address is settled (dht.ts). */
  protected addressKnown?: () => boolean;
  /** Own records to save, filled in by dht.ts. */
  protected ownRecords: () => DhtState["published"] = () => [];
  /** Told how long each lookup and each store at the k closest took (the node's metrics set it). */
  onTiming?: (op: "lookup" | "store", ms: number) => void;

  constructor(readonly opts: DhtOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger;
    this.id = opts.identity.nodeId;
    this.nodeId = toHex(this.id);
    this.k = opts.k ?? C.K;
    this.table = new RoutingTable(this.id, this.k, this.clock.now(), opts.random);
    this.store = new RecordStore({ self: this.id, clock: this.clock, ...opts.storeLimits });
    this.limiter = new RequestLimiter(this.clock, opts.rateLimits);
    this.harvest = new AddressHarvest(this.clock, this.log);
    this.families = familiesOf(opts.transport);
    this.scope = new AddressScope(() => this.ownAddresses(), () => this.clock.now());
    const bound = [opts.transport.address, opts.transport.address6];
    this.rpc = new Rpc(opts.transport, this.clock, opts.identity, this.counters, (p, a, port, proven) => this.onReply(p, a, port, proven), (ip) => bound.includes(ip));
    if (opts.client) this.rpc.asClient = opts.client;
    this.tokens = new AddressTokens(this.clock);
    const ping = (to: RpcTarget, wantProof: boolean, attempts?: number) => this.request(to, { type: MsgType.PING }, { wantProof, attempts });
    this.membership = new Membership({ table: this.table, clock: this.clock, ping, onAdded: (c) => this.onAdded(c) });
    this.responder = new Responder({
      identity: opts.identity,
      table: this.table,
      store: this.store,
      tokens: this.tokens,
      counters: this.counters,
      wouldKeep: (sender) => !this.table.get(toHex(sender)) && !this.table.bucket(this.table.bucketIndex(sender)).full,
      namesContacts: () => this.upkeep.reachedNetwork,
      send: (data, address, port) => this.rpc.sendRaw(data, address, port),
    });
    this.lookupDeps = {
      self: this.id,
      clock: this.clock,
      request: (to, body, o) => this.request(to, body, o),
      wantsProof: (idHex, address, port) => this.membership.wantsProof(idHex, address, port),
      expectedRtt: (address, port) => this.rpc.expectedRtt(address, port),
      rttQuantile: (q) => this.rpc.rttQuantile(q),
      onFailure: (idHex) => this.membership.failed(idHex),
      validRecords: (kind, key, records) => this.replication.validRecords(kind, key, records),
      mayQuery: (address) => {
        if (!this.families[familyOf(address) === 6 ? "v6" : "v4"]) return false; // a hostile reply's other family
        if (this.scope.allows(address)) return true;
        this.counters.refused.specialRange++;
        return false;
      },
    };
    this.upkeep = new Upkeep({
      self: this.id,
      table: this.table,
      clock: this.clock,
      log: this.log,
      k: this.k,
      refreshIntervalMs: opts.refreshIntervalMs ?? C.REFRESH_INTERVAL_MS,
      bootstrap: () => opts.bootstrap ?? [],
      saved: () => this.saved?.contacts ?? [],
      ping: (to, wantProof, attempts) => this.request(to, { type: MsgType.PING }, { wantProof, attempts, trusted: true }),
      lookup: (t) => this.lookupNow(t),
      sweep: () => this.store.sweep(),
      addressKnown: () => this.addressKnown?.() ?? false,
      random: opts.random ?? Math.random,
      onJoined: () => {
        this.onJoined?.();
        this.state.saveSoon();
      },
    });
    this.replication = new Replication({
      self: this.id,
      k: this.k,
      clock: this.clock,
      table: this.table,
      store: this.store,
      counters: this.counters,
      request: (to, body, o) => this.request(to, body, o),
      findNode: (target, onEvent) => this.lookup(target, undefined, onEvent),
    });
    this.state = new StateKeeper({ path: opts.statePath, clock: this.clock, log: this.log, collect: () => this.collectState() });
  }

  get port(): number {
    return this.opts.transport.port;
  }

  /** Loads saved neighbours, starts listening, and joins in the background. */
  async start(): Promise<void> {
    this.saved = await this.state.load(this.nodeId);
    this.state.start();
    this.opts.transport.onDatagram((d, a, p, t) => this.receive(d, a, p, t));
    this.running = true;
    this.upkeep.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.upkeep.stop();
    this.rpc.close();
    await this.state.stop();
    this.opts.transport.close();
  }

  /** Joins (again); resolves with the number of peers known afterwards. start() already joins. */
  join(): Promise<number> {
    return this.upkeep.join();
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
        const verified = this.tokens.check(address, port, p.token);
        if (!verified) {
          this.responder.handle(p, address, port, data.length, false);
          return;
        }
        // A proof from a node already proven at this address is not worth a signature check.
        const proven = !!p.proof && !this.membership.isProven(toHex(p.sender), address, port);
        if (proven && !checkRequestProof(p.proof!, p.sender, p.rid, this.id, p.token)) {
          c.dropped.badProof++;
          return;
        }
        this.rpc.markVerified(address, port);
        this.harvest.saw(address);
        this.responder.handle(p, address, port, data.length, true);
        if (!(p.flags & Flag.CLIENT)) this.membership.saw(p.sender, address, port, proven);
      } else this.rpc.handleReply(p, address, port);
    } catch (e) {
      // A bug must not take the node down; it shows in the log and the counters.
      c.dropped.malformed++;
      this.log.warn("error while handling a datagram", { from: `${address}:${port}`, error: (e as Error).message });
    }
  }

  private onReply(p: Packet, address: string, port: number, proven: boolean): void {
    this.harvest.saw(address);
    this.membership.saw(p.sender, address, port, proven);
    if (p.body.type === MsgType.PONG && (proven || this.membership.isProven(toHex(p.sender), address, port))) this.onObserved?.(address, p.body.observed);
  }

  request(to: RpcTarget, body: Body, opts: RequestOptions = {}): Promise<RpcResult> {
    return this.rpc.request(to, body, opts);
  }

  /**
   * The addresses that say which networks this node is on (address-scope.ts): the bound ones (or, bound to
   * 0.0.0.0 or ::, the host's non-loopback interfaces of that family), the advertised or learned one, and
   * the bootstrap nodes'.
   */
  protected ownAddresses(): (string | undefined)[] {
    const { address, address6 } = this.opts.transport;
    const any = new Set([address, address6].filter((a) => a === "0.0.0.0" || a === "::").map((a) => (a === "::" ? "IPv6" : "IPv4")));
    const own = [address, address6].filter((a) => a !== "0.0.0.0" && a !== "::");
    own.push(this.opts.advertise, ...(this.opts.bootstrap ?? []).map((b) => b.address));
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (any.has(a.family) && !a.internal) own.push(a.address);
    return own;
  }

  /** Calls cb with every verified remote address (IPv4 or IPv6) of DHT traffic (once an hour per address). */
  onAddress(cb: (address: string) => void): () => void {
    return this.harvest.listen(cb);
  }

  // ---- lookups and stores

  /** An iterative lookup: FIND_VALUE for `kind` when given, else FIND_NODE. */
  async lookup(target: Id, kind?: RecordKind, onEvent?: OnEvent, signal?: AbortSignal, alpha?: number): Promise<LookupResult> {
    // A lookup issued while the node is still joining waits for the join rather than starting from the
    // one or two contacts it has so far (or none); with k contacts already, it has enough to start from
    // (a put used to wait for the whole first join, seconds on a busy machine).
    const joining = this.upkeep.pendingJoin;
    if (joining && this.table.size < this.k) await joining;
    return this.lookupNow(target, kind, onEvent, signal, alpha);
  }

  private lookupNow(target: Id, kind?: RecordKind, onEvent?: OnEvent, signal?: AbortSignal, alpha = this.opts.alpha): Promise<LookupResult> {
    this.counters.lookups++;
    this.table.markLookup(target, this.clock.now());
    const initial = this.table.closest(target, this.k);
    const done = new Lookup(this.lookupDeps, { target, initial, kind, k: this.k, alpha, onEvent, signal }).done;
    if (this.onTiming) void done.then((r) => this.onTiming?.("lookup", r.ms));
    return done;
  }

  /** Stores a signed record at the k closest nodes (and here, if this node is one of them). */
  storeAtClosest(kind: RecordKind, key: Id, record: SignedRecord, onEvent?: OnEvent): Promise<StoreOutcomes> {
    const started = this.clock.now();
    const done = this.replication.storeAtClosest(kind, key, record, onEvent);
    if (this.onTiming) void done.then(() => this.onTiming?.("store", this.clock.now() - started), () => {});
    return done;
  }

  private onAdded(c: Contact): void {
    this.markDirty();
    this.replication.handOver(c);
  }

  // ---- state in the data dir

  protected markDirty(): void {
    this.state.markDirty();
  }

  private collectState(): DhtState {
    const contacts = this.table
      .all()
      .sort((a, b) => a.failures - b.failures || b.lastSeen - a.lastSeen)
      .slice(0, C.SAVED_CONTACTS);
    // Keep the saved neighbours if we know nobody right now (stopping before the join finished).
    const keep = contacts.length ? contacts : (this.saved?.contacts ?? []);
    return { nodeId: this.nodeId, port: this.port, contacts: keep, published: this.ownRecords() };
  }
}

