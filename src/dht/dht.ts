/**
 * The DHT as the rest of the node uses it: user values (`icon dht put/get`), router announcements for the
 * topology (thesis §3.1.1, fig 3.3), the peers it knows, the addresses it sees, and its external address.
 * Built from `(options)` with the transport and clock injected (node-core.ts), so the same class runs on a
 * UDP socket in the product and on an in-memory hub in tests and `icon bench dht`.
 */
import { IconError } from "../errors.ts";
import { announcementOf, type Announcement, type AnnouncementFields } from "./announcement.ts";
import { MsgType, type Endpoint } from "./codec.ts";
import { DEFAULT_RECORD_TTL_MS, ID_BYTES, MAX_DATAGRAM } from "./constants.ts";
import { totalDropped } from "./counters.ts";
import { DhtNodeCore, type DhtOptions } from "./node-core.ts";
import type { OnEvent } from "./events.ts";
import { ExternalAddress } from "./external-address.ts";
import { equalIds, fromHex, keyOf, valueKey } from "./id.ts";
import { Publisher, type PutReport } from "./publisher.ts";
import { publisherOf, RECORD_OVERHEAD, RecordKind, valueOf, type SignedRecord } from "./record.ts";
import { VALUE_BUDGET } from "./record-store.ts";
import { familyOf, hostPort } from "../util/ipv6.ts";

export type { DhtOptions, Announcement, AnnouncementFields, PutReport, Endpoint, OnEvent };

/** Largest value `put` accepts: one record (its name's hash and the value) must fit one FIND_VALUE reply. */
export const MAX_VALUE_BYTES = VALUE_BUDGET - RECORD_OVERHEAD - ID_BYTES;

export interface GetResult {
  key: string;
  value: Uint8Array;
  /** Node id of the value's publisher (a value lives under its publisher's keys only). */
  publisher: string;
  seq: number;
  /** "local" when this node held the key, else the node that answered. */
  source: string;
  hops: number;
  ms: number;
}

export interface LookupOptions {
  /** Progress events of the lookup (query, reply, slow, timeout, value, lookup-done, store). */
  onEvent?: OnEvent;
  /** Ends the lookup early: it resolves with what it has found so far. */
  signal?: AbortSignal;
  /** Queries in flight at once. @default ALPHA (or the node's alpha) */
  alpha?: number;
}

export interface GetOptions extends LookupOptions {
  /** Whose value to read (node id, hex); this node's own by default. */
  publisher?: string;
}

export interface PeerSummary {
  id: string;
  address: string;
  port: number;
  rttMs?: number;
  failures: number;
  lastSeenMsAgo: number;
}

export class Dht extends DhtNodeCore {
  /** Peers over IPv4 and over IPv6 see different addresses: each family votes on its own. */
  private readonly external = new ExternalAddress();
  private readonly external6 = new ExternalAddress();
  private readonly publisher: Publisher;
  private restored = false;

  constructor(opts: DhtOptions) {
    super(opts);
    this.publisher = new Publisher({
      identity: opts.identity,
      clock: this.clock,
      log: this.log,
      storeAtClosest: (kind, key, record, onEvent) => this.storeAtClosest(kind, key, record, onEvent),
      self: () => ({ address: this.advertisedAddress(), address6: this.advertisedAddress() === this.advertisedAddress6() ? undefined : this.advertisedAddress6(), dhtPort: this.port }),
      random: opts.random ?? Math.random,
    });
    this.ownRecords = () => this.publisher.saved();
    this.onJoined = () => {
      if (this.restored) return;
      this.restored = true;
      this.publisher.restore(this.saved?.published ?? []);
    };
    this.addressKnown = () => (!this.families.v4 || this.external.get() !== undefined) && (!this.families.v6 || this.external6.get() !== undefined);
    this.onObserved = (voter, observed) => {
      const ext = familyOf(observed.address) === 6 ? this.external6 : this.external;
      if (ext.vote(voter, observed)) this.log.info("learned the external address from peers", { address: `${observed.address}:${observed.port}` });
    };
  }

  protected override ownAddresses(): (string | undefined)[] {
    return [...super.ownAddresses(), this.external.get()?.address, this.external6.get()?.address];
  }

  override async stop(): Promise<void> {
    this.publisher.stop();
    await super.stop();
  }

  /** Stores a value under a string key at the k closest nodes; republished until the node stops. */
  async put(key: string, value: Uint8Array | string, opts: LookupOptions & { ttlMs?: number } = {}): Promise<PutReport> {
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
    if (bytes.length > MAX_VALUE_BYTES)
      throw new IconError("TOO_LARGE", `the value is ${bytes.length} bytes; a DHT value holds at most ${MAX_VALUE_BYTES}`,
        `Store a shorter value (every reply must fit one ${MAX_DATAGRAM}-byte datagram), or store a digest of it.`);
    const report = await this.publisher.publish(RecordKind.VALUE, key, { value: bytes }, opts.ttlMs ?? this.recordTtl, opts.onEvent);
    this.markDirty();
    return report;
  }

  /**
   * A publisher's newest value under a key (this node's own unless `publisher` names another node): from
   * the local store when this node holds it, else by lookup.
   */
  async get(key: string, opts: GetOptions = {}): Promise<GetResult | undefined> {
    const publisher = opts.publisher ?? this.nodeId;
    if (!/^[0-9a-f]{40}$/.test(publisher))
      throw new IconError("INVALID_INPUT", `publisher "${publisher}" is not a node id`, "Give the publisher's node id: 40 hex digits (icon node status shows a node's).");
    const k = valueKey(fromHex(publisher), keyOf("value", key));
    const local = this.store.get(RecordKind.VALUE, k);
    if (local.length) return valueResult(key, local, "local", 0, 0);
    const r = await this.lookup(k, RecordKind.VALUE, opts.onEvent, opts.signal);
    if (!r.records) return undefined;
    const result = valueResult(key, r.records, `${r.from!.address}:${r.from!.port}`, r.hops, r.ms);
    // Paper §2.3: cache at the closest node that lacked it. Never waited for (the thesis's DHT did).
    if (r.cacheTarget) void this.request(r.cacheTarget, { type: MsgType.STORE, kind: RecordKind.VALUE, key: k, record: newest(r.records) });
    return result;
  }

  /**
   * Announces "this node is rttMs / hops from router `routerId`" (thesis fig 3.3): signed, stored at the k
   * closest nodes to the routerId, republished until withdrawn. Calling it again replaces the announcement.
   */
  announce(routerId: string, fields: AnnouncementFields, opts: LookupOptions & { ttlMs?: number } = {}): Promise<PutReport> {
    const report = this.publisher.publish(RecordKind.ANNOUNCEMENT, routerId, { fields }, opts.ttlMs ?? this.recordTtl, opts.onEvent);
    this.markDirty();
    return report;
  }

  /** Stops republishing an announcement (stored copies expire with their TTL). */
  withdraw(routerId: string): boolean {
    const had = this.publisher.withdraw(RecordKind.ANNOUNCEMENT, routerId);
    if (had) this.markDirty();
    return had;
  }

  /** Router ids this node currently announces. */
  announcedRouters(): string[] {
    return this.publisher.names(RecordKind.ANNOUNCEMENT);
  }

  /**
   * Announcements for a router, nearest (lowest RTT) first: from the local store when this node holds the
   * key (no network round trip), otherwise a lookup that returns at the first node holding them.
   */
  async findAnnouncements(routerId: string, opts: LookupOptions = {}): Promise<Announcement[]> {
    const local = this.localAnnouncements(routerId);
    if (local.length) return local;
    const r = await this.lookup(keyOf("router", routerId), RecordKind.ANNOUNCEMENT, opts.onEvent, opts.signal, opts.alpha);
    return r.records ? toAnnouncements(r.records) : [];
  }

  /** Announcements for a router held in this node's store (no network). */
  localAnnouncements(routerId: string): Announcement[] {
    return toAnnouncements(this.store.get(RecordKind.ANNOUNCEMENT, keyOf("router", routerId)));
  }

  /**
   * This node's own RTT to node `nodeId` at `at`, as a path property: the lowest RTT of the last
   * FLOOR_WINDOW_MS when it is a proven contact there (the finder's triangle check compares path RTTs; a
   * busy moment of either node only adds to a sample, and the smoothed RTT keeps such moments for many
   * samples, e.g. an edge loading an image into its engine just after it started), else a PING that must prove the node's id at
   * that address (whose RTT the DHT then keeps); undefined when nobody answers there as that node.
   */
  async rttTo(nodeId: string, at: Endpoint): Promise<number | undefined> {
    const proven = this.membership.isProven(nodeId, at.address, at.port);
    const floor = this.rpc.floorRtt(at.address, at.port);
    if (proven && floor !== undefined) return floor;
    const id = fromHex(nodeId);
    const r = await this.request({ ...at, id }, { type: MsgType.PING }, { wantProof: !proven });
    if (!r.ok || !(r.proven || proven) || !equalIds(r.packet.sender, id)) return undefined;
    return this.rpc.floorRtt(at.address, at.port) ?? r.rttMs;
  }

  peers(): PeerSummary[] {
    const now = this.clock.now();
    return this.table.all().map((c) => ({
      id: c.idHex,
      address: c.address,
      port: c.port,
      rttMs: round(this.rpc.srtt(c.address, c.port)),
      failures: c.failures,
      lastSeenMsAgo: Math.round(now - c.lastSeen),
    }));
  }

  /** Our IPv4 address and port as peers see them, once enough of them agree. */
  externalAddress(): Endpoint | undefined {
    return this.external.get();
  }

  /** The same over IPv6. */
  externalAddress6(): Endpoint | undefined {
    return this.external6.get();
  }

  /** Every address peers' PONGs have reported for this node, before any quorum: a hint that it sits behind a NAT. */
  observedAddresses(): string[] {
    return [...this.external.reported(), ...this.external6.reported()];
  }

  /**
   * The address announcements carry: --advertise, else the learned external IPv4 one, else a specific
   * --listen; on a node without IPv4, its IPv6 one (advertisedAddress6).
   */
  advertisedAddress(): string | undefined {
    if (this.opts.advertise) return this.opts.advertise;
    const learned = this.external.get();
    if (learned) return learned.address;
    const bound = this.opts.transport.address;
    if (familyOf(bound) === 6) return this.advertisedAddress6();
    return bound && bound !== "0.0.0.0" ? bound : undefined;
  }

  /** The IPv6 address announcements carry: the learned external one, else a specific bound one. */
  advertisedAddress6(): string | undefined {
    const learned = this.external6.get();
    if (learned) return learned.address;
    const t = this.opts.transport;
    const bound = familyOf(t.address) === 6 ? t.address : t.address6;
    return bound && bound !== "::" ? bound : undefined;
  }

  /** Fields for `icon node status`. */
  /** The DHT's part of `icon node status` (the node's advertised address and bound port are its top-level fields). */
  status() {
    const ext = this.external.get();
    const ext6 = this.external6.get();
    return {
      listen: [this.opts.transport.address, this.opts.transport.address6].filter((a) => a !== undefined).map((a) => hostPort(a, this.port)).join(" "),
      externalAddress: ext ? `${ext.address}:${ext.port}` : null,
      externalAddress6: ext6 ? hostPort(ext6.address, ext6.port) : null,
      peers: this.table.size,
      storedKeys: this.store.keys,
      storedBytes: this.store.bytes,
      /** Records evicted to keep every sender's /24 within its share of the store. */
      storeEvicted: this.store.evicted,
      published: this.publisher.count,
      outstandingRpcs: this.rpc.outstanding,
      srttMs: round(this.rpc.globalRtt.srtt),
      /** The retransmission timeout of the median contact right now (rtt.ts). */
      rtoMs: round(median(this.table.all().map((c) => this.rpc.rto(c.address, c.port)))),
      droppedTotal: totalDropped(this.counters),
      socketErrors: { send: this.opts.transport.sendErrors ?? 0, receive: this.opts.transport.receiveErrors ?? 0 },
      ...this.counters,
    };
  }

  private get recordTtl(): number {
    return this.opts.recordTtlMs ?? DEFAULT_RECORD_TTL_MS;
  }
}

function median(xs: number[]): number | undefined {
  return xs.length ? xs.sort((a, b) => a - b)[xs.length >> 1] : undefined;
}

function round(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 100) / 100;
}

function newest(records: SignedRecord[]): SignedRecord {
  return records.reduce((a, b) => (b.seq > a.seq ? b : a));
}

function valueResult(key: string, records: SignedRecord[], source: string, hops: number, ms: number): GetResult {
  const r = newest(records);
  return { key, value: valueOf(r), publisher: publisherOf(r), seq: r.seq, source, hops, ms };
}

function toAnnouncements(records: SignedRecord[]): Announcement[] {
  return records.map(announcementOf).sort((a, b) => a.rttMs - b.rttMs);
}
