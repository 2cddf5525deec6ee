/**
 * What this node stores for others. Under each (kind, key) it keeps a LIST of signed records, one per
 * publisher: a record replaces the same publisher's older one (larger seq), is refused when stale or
 * replayed, and the list is ordered (announcements by RTT, values newest first) and culled by the tail
 * so that it always fits one FIND_VALUE reply (thesis §3.1.1). Storage is bounded in keys and bytes;
 * when full, the key farthest from our id goes first (it is the one we are least responsible for).
 * Signatures are checked by the caller before put().
 */
import type { Clock } from "../util/clock.ts";
import { announcementRank } from "./announcement.ts";
import { HEADER_BYTES, PROOF_BYTES } from "./codec.ts";
import { CLOCK_SKEW_MS, MAX_DATAGRAM, MAX_RECORD_TTL_MS, STORE_MAX_BYTES, STORE_MAX_KEYS } from "./constants.ts";
import { compareDistance, type Id } from "./id.ts";
import { publisherOf, RecordKind, recordSize, type SignedRecord } from "./record.ts";
import { toHex } from "../util/hex.ts";

/** Room for records in a VALUE reply: the datagram minus header, proof, kind and count. */
export const VALUE_BUDGET = MAX_DATAGRAM - HEADER_BYTES - PROOF_BYTES - 2;

export type StoreOutcome = "stored" | "unchanged" | "stale" | "expired" | "culled" | "full" | "invalid";

interface Held {
  record: SignedRecord;
  publisher: string;
  rank: number;
  size: number;
}

interface Entry {
  kind: RecordKind;
  key: Id;
  held: Held[];
  bytes: number;
  /** Highest seq seen per publisher, kept after a record is culled so that it cannot be replayed. */
  maxSeq: Map<string, number>;
}

export interface RecordStoreOptions {
  self: Id;
  clock: Clock;
  maxKeys?: number;
  maxBytes?: number;
  /** Bytes the records of one key may take (default: what fits one VALUE reply). */
  budget?: number;
}

/** Sort key: lower ranks first. Throws on a payload the kind does not accept. */
export function rankOf(kind: RecordKind, r: SignedRecord): number {
  return kind === RecordKind.ANNOUNCEMENT ? announcementRank(r) : -r.seq;
}

export class RecordStore {
  private readonly map = new Map<string, Entry>();
  private totalBytes = 0;
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

  put(kind: RecordKind, key: Id, record: SignedRecord): StoreOutcome {
    const now = this.opts.clock.now();
    const expiresMs = record.expiresAt * 1000;
    if (expiresMs <= now) return "expired";
    if (expiresMs > now + MAX_RECORD_TTL_MS + CLOCK_SKEW_MS) return "invalid";
    let rank: number;
    try {
      rank = rankOf(kind, record);
    } catch {
      return "invalid";
    }
    const size = recordSize(record);
    if (size > this.budget) return "invalid";
    const slot = RecordStore.slot(kind, key);
    let entry = this.map.get(slot);
    const publisher = publisherOf(record);
    if (entry) {
      const seen = entry.maxSeq.get(publisher);
      if (seen !== undefined && record.seq <= seen) {
        const same = entry.held.find((h) => h.publisher === publisher);
        const identical = same && same.record.seq === record.seq && Buffer.compare(same.record.signature, record.signature) === 0;
        return identical ? "unchanged" : "stale";
      }
    } else {
      if (!this.makeRoom(key, size)) return "full";
      entry = { kind, key, held: [], bytes: 0, maxSeq: new Map() };
      this.map.set(slot, entry);
    }
    entry.maxSeq.set(publisher, record.seq);
    const old = entry.held.findIndex((h) => h.publisher === publisher);
    if (old >= 0) this.drop(entry, old);
    const held: Held = { record, publisher, rank, size };
    entry.held.push(held);
    entry.held.sort((a, b) => a.rank - b.rank || (a.publisher < b.publisher ? -1 : 1));
    entry.bytes += size;
    this.totalBytes += size;
    while (entry.bytes > this.budget) this.drop(entry, entry.held.length - 1);
    if (!entry.held.includes(held)) return "culled";
    if (this.totalBytes > this.maxBytes) this.makeRoom(key, 0);
    return "stored";
  }

  private drop(entry: Entry, i: number): void {
    const [h] = entry.held.splice(i, 1);
    if (!h) return;
    entry.bytes -= h.size;
    this.totalBytes -= h.size;
  }

  /** Frees a key slot and `bytes`, evicting keys farther from us than `key`; false if that is not possible. */
  private makeRoom(key: Id, bytes: number): boolean {
    while (this.map.size >= this.maxKeys || this.totalBytes + bytes > this.maxBytes) {
      let farthest: [string, Entry] | undefined;
      for (const e of this.map) if (!farthest || compareDistance(this.opts.self, e[1].key, farthest[1].key) > 0) farthest = e;
      if (!farthest || compareDistance(this.opts.self, farthest[1].key, key) <= 0) return false;
      this.removeSlot(farthest[0], farthest[1]);
    }
    return true;
  }

  private removeSlot(slot: string, entry: Entry): void {
    this.totalBytes -= entry.bytes;
    this.map.delete(slot);
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
    for (const [slot, entry] of this.map) {
      for (let i = entry.held.length - 1; i >= 0; i--) {
        if (entry.held[i]!.record.expiresAt <= nowS) {
          this.drop(entry, i);
          removed++;
        }
      }
      if (entry.held.length === 0) this.removeSlot(slot, entry);
    }
    return removed;
  }

  /** Every (kind, key) held, for handing records to new nodes that are closer to a key (paper §2.5). */
  *entries(): IterableIterator<{ kind: RecordKind; key: Id; records: SignedRecord[] }> {
    for (const e of this.map.values()) yield { kind: e.kind, key: e.key, records: e.held.map((h) => h.record) };
  }
}
