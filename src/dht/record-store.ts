/**
 * What this node stores for others. Under each (kind, key) it keeps a LIST of signed records, one per
 * publisher: a record replaces the same publisher's older one (larger seq), is refused when stale or
 * replayed, and the list is ordered (announcements by RTT, at most MAX_PER_NET per announced /24 or /48, values
 * newest first) and culled by the tail so that it always fits one FIND_VALUE reply (thesis §3.1.1).
 *
 * Storage is bounded in keys and bytes, and shared fairly: every record is charged to the /24 (IPv6: /48) of the node
 * that sent it (verified by its address token; "self" for this node's own), and when the store is full the
 * oldest record of the source holding the most bytes goes first. Keys cost nothing to pick, so "evict the
 * key farthest from our id" let records under keys next to our id evict everything else (finding 11);
 * now a flood only churns its own share. Signatures are checked by the caller before put().
 */
import type { Clock } from "../util/clock.ts";
import { sybilNet } from "../util/ipv6.ts";
import { decodeAnnouncement, MAX_PER_NET } from "./announcement.ts";
import { HEADER_BYTES, PROOF_BYTES } from "./codec.ts";
import { CLOCK_SKEW_MS, MAX_DATAGRAM, MAX_RECORD_TTL_MS, STORE_MAX_BYTES, STORE_MAX_KEYS } from "./constants.ts";
import type { Id } from "./id.ts";
import { publisherOf, RecordKind, recordSize, type SignedRecord } from "./record.ts";
import { toHex } from "../util/hex.ts";

/** Room for records in a VALUE reply: the datagram minus header, proof, kind and count. */
export const VALUE_BUDGET = MAX_DATAGRAM - HEADER_BYTES - PROOF_BYTES - 2;
/** The source of this node's own records. */
export const SELF = "self";

export type StoreOutcome = "stored" | "unchanged" | "stale" | "expired" | "culled" | "full" | "invalid";

interface Held {
  record: SignedRecord;
  publisher: string;
  rank: number;
  /** An announcement's announced /24. */
  net?: string;
  size: number;
  /** Who sent it: a /24, or SELF. */
  source: string;
  entry: Entry;
}

interface Entry {
  slot: string;
  kind: RecordKind;
  key: Id;
  held: Held[];
  bytes: number;
  /** Highest seq seen per publisher, kept after a record is culled so that it cannot be replayed. */
  maxSeq: Map<string, number>;
}

/** What one source holds, oldest first. */
interface Share {
  bytes: number;
  held: Set<Held>;
}

export interface RecordStoreOptions {
  self: Id;
  clock: Clock;
  maxKeys?: number;
  maxBytes?: number;
  /** Bytes the records of one key may take (default: what fits one VALUE reply). */
  budget?: number;
}

/** Sort key (lower ranks first) and announced network. Throws on a payload the kind does not accept. */
export function orderOf(kind: RecordKind, r: SignedRecord): { rank: number; net?: string } {
  if (kind !== RecordKind.ANNOUNCEMENT) return { rank: -r.seq };
  const a = decodeAnnouncement(r.payload);
  return { rank: a.rttMs, net: sybilNet(a.address) };
}

/** The source a STORE from this address is charged to. */
export function sourceOf(address: string): string {
  return sybilNet(address);
}

export class RecordStore {
  private readonly map = new Map<string, Entry>();
  private readonly shares = new Map<string, Share>();
  private totalBytes = 0;
  /** Records evicted to keep the sources within their shares. */
  evicted = 0;
  readonly maxKeys: number;
  readonly maxBytes: number;
  readonly budget: number;

  constructor(private readonly opts: RecordStoreOptions) {
    this.maxKeys = opts.maxKeys ?? STORE_MAX_KEYS;
    this.maxBytes = opts.maxBytes ?? STORE_MAX_BYTES;
    this.budget = opts.budget ?? VALUE_BUDGET;
  }

  get keys(): number {
    return this.map.size;
  }
  get bytes(): number {
    return this.totalBytes;
  }

  private static slot(kind: RecordKind, key: Id): string {
    return kind + toHex(key);
  }

  put(kind: RecordKind, key: Id, record: SignedRecord, source = SELF): StoreOutcome {
    const now = this.opts.clock.now();
    const expiresMs = record.expiresAt * 1000;
    if (expiresMs <= now) return "expired";
    if (expiresMs > now + MAX_RECORD_TTL_MS + CLOCK_SKEW_MS) return "invalid";
    let order: { rank: number; net?: string };
    try {
      order = orderOf(kind, record);
    } catch {
      return "invalid";
    }
    const size = recordSize(record);
    if (size > this.budget) return "invalid";
    const slot = RecordStore.slot(kind, key);
    const publisher = publisherOf(record);
    const known = this.map.get(slot);
    if (known) {
      const seen = known.maxSeq.get(publisher);
      if (seen !== undefined && record.seq <= seen) {
        const same = known.held.find((h) => h.publisher === publisher);
        const identical = same && same.record.seq === record.seq && Buffer.compare(same.record.signature, record.signature) === 0;
        return identical ? "unchanged" : "stale";
      }
    }
    if (!this.makeRoom(size, !known, source)) return "full";
    let entry = this.map.get(slot); // makeRoom may have emptied it
    if (!entry) {
      entry = { slot, kind, key, held: [], bytes: 0, maxSeq: known?.maxSeq ?? new Map() };
      this.map.set(slot, entry);
    }
    entry.maxSeq.set(publisher, record.seq);
    const old = entry.held.find((h) => h.publisher === publisher);
    const held: Held = { record, publisher, ...order, size, source, entry };
    entry.held.push(held); // before the old one goes, so that the key is never left empty
    if (old) this.drop(old);
    entry.held.sort((a, b) => a.rank - b.rank || (a.publisher < b.publisher ? -1 : 1));
    entry.bytes += size;
    this.totalBytes += size;
    this.charge(held);
    this.cull(entry);
    return entry.held.includes(held) ? "stored" : "culled";
  }

  /** Keeps the best-ranked records that fit one reply, at most MAX_PER_NET per announced /24. */
  private cull(entry: Entry): void {
    const perNet = new Map<string, number>();
    for (const h of [...entry.held]) {
      if (h.net === undefined) continue;
      const n = (perNet.get(h.net) ?? 0) + 1;
      perNet.set(h.net, n);
      if (n > MAX_PER_NET) this.drop(h);
    }
    while (entry.bytes > this.budget) this.drop(entry.held.at(-1)!);
  }

  private charge(h: Held): void {
    let share = this.shares.get(h.source);
    if (!share) this.shares.set(h.source, (share = { bytes: 0, held: new Set() }));
    share.bytes += h.size;
    share.held.add(h);
  }

  /** Removes one record (and its key, when it was the last there). */
  private drop(h: Held): void {
    const entry = h.entry;
    const i = entry.held.indexOf(h);
    if (i < 0) return;
    entry.held.splice(i, 1);
    entry.bytes -= h.size;
    this.totalBytes -= h.size;
    const share = this.shares.get(h.source)!;
    share.bytes -= h.size;
    share.held.delete(h);
    if (!share.held.size) this.shares.delete(h.source);
    if (!entry.held.length) this.map.delete(entry.slot);
  }

  /**
   * Frees room for `bytes` (and a key slot when `newKey`) by evicting the oldest records of the source
   * holding the most bytes, counting the newcomer's record in its source (a source over its share evicts
   * its own); false when the newcomer alone outweighs every share (nothing fair to evict).
   */
  private makeRoom(bytes: number, newKey: boolean, source: string): boolean {
    while ((newKey && this.map.size >= this.maxKeys) || this.totalBytes + bytes > this.maxBytes) {
      let heaviest: string | undefined;
      let most = -1;
      for (const [s, share] of this.shares) {
        const b = share.bytes + (s === source ? bytes : 0);
        if (b > most) [heaviest, most] = [s, b];
      }
      const oldest = this.shares.get(heaviest!)?.held.values().next().value;
      if (!oldest) return false;
      this.drop(oldest);
      this.evicted++;
    }
    return true;
  }

  /** The unexpired records under (kind, key), in list order. */
  get(kind: RecordKind, key: Id): SignedRecord[] {
    const entry = this.map.get(RecordStore.slot(kind, key));
    if (!entry) return [];
    const nowS = this.opts.clock.now() / 1000;
    return entry.held.filter((h) => h.record.expiresAt > nowS).map((h) => h.record);
  }

  /** Drops expired records and keys left empty; returns how many records went. */
  sweep(): number {
    const nowS = this.opts.clock.now() / 1000;
    let removed = 0;
    for (const entry of [...this.map.values()])
      for (const h of [...entry.held])
        if (h.record.expiresAt <= nowS) {
          this.drop(h);
          removed++;
        }
    return removed;
  }

  /** Every (kind, key) held, for handing records to new nodes that are closer to a key (paper §2.5). */
  *entries(): IterableIterator<{ kind: RecordKind; key: Id; records: SignedRecord[] }> {
    for (const e of this.map.values()) yield { kind: e.kind, key: e.key, records: e.held.map((h) => h.record) };
  }
}
