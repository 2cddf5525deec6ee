/**
 * The routing table (paper §2.2): 160 k-buckets, bucket i holding contacts that share exactly i leading
 * bits with our id. This is the paper's bucket-splitting tree with only the buckets that cover our own id
 * ever split. Only contacts whose id is proven (they signed for it) and whose address answered get in.
 */
import { K, LRS_PING_AFTER_MS, STALE_AFTER_FAILURES } from "./constants.ts";
import { commonPrefixLength, compareDistance, randomIdInBucket, type Id } from "./id.ts";
import { KBucket, newContact, type Contact } from "./k-bucket.ts";

export type Heard =
  | { kind: "self" }
  /** Known at this address: moved to the tail of its bucket. */
  | { kind: "updated"; contact: Contact }
  /** Known id at another address: the caller decides (it checks the old address before moving it). */
  | { kind: "moved"; contact: Contact }
  | { kind: "added"; contact: Contact }
  /** Bucket full: kept as a replacement; `ping` is the least recently seen contact to check, if it is due. */
  | { kind: "replacement"; contact: Contact; ping?: Contact };

export class RoutingTable {
  private readonly buckets: KBucket[] = [];
  private readonly byId = new Map<string, Contact>();

  /**
   * `now`: buckets count as looked up at creation, so the first refresh comes an interval later, not at once.
   * `random`: the source of refresh targets (seeded in simulations; the CSPRNG by default).
   */
  constructor(readonly self: Id, readonly k = K, now = 0, private readonly random?: () => number) {
    for (let i = 0; i < 160; i++) {
      const b = new KBucket(k);
      b.lastLookup = now;
      this.buckets.push(b);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  get(idHex: string): Contact | undefined {
    return this.byId.get(idHex);
  }

  bucketIndex(id: Id): number {
    return commonPrefixLength(this.self, id);
  }

  bucket(i: number): KBucket {
    return this.buckets[i]!;
  }

  /** Every contact (not the replacement caches). */
  all(): Contact[] {
    return [...this.byId.values()];
  }

  /** Paper §2.2: any message from a (proven) node updates its bucket. */
  heard(id: Id, idHex: string, address: string, port: number, now: number): Heard {
    const i = this.bucketIndex(id);
    if (i >= 160) return { kind: "self" };
    const bucket = this.buckets[i]!;
    const known = this.byId.get(idHex);
    if (known) {
      if (known.address !== address || known.port !== port) return { kind: "moved", contact: known };
      known.lastSeen = now;
      known.failures = 0;
      bucket.touch(known);
      return { kind: "updated", contact: known };
    }
    const c = newContact(id, idHex, address, port, now);
    if (bucket.add(c)) {
      this.byId.set(idHex, c);
      bucket.removeReplacement(idHex);
      return { kind: "added", contact: c };
    }
    bucket.addReplacement(c);
    // A stale head is replaced at once when a live replacement exists (paper §4.1).
    const head = bucket.head()!;
    if (head.failures >= STALE_AFTER_FAILURES) {
      this.removeContact(head);
      return { kind: "added", contact: c };
    }
    const due = now - head.lastSeen >= LRS_PING_AFTER_MS && now - head.lastPinged >= LRS_PING_AFTER_MS;
    return { kind: "replacement", contact: c, ping: due ? head : undefined };
  }

  /**
   * An RPC to a contact got no answer. Counted, not evicted at once (a lost datagram is not a dead node);
   * once stale, it is replaced if the replacement cache has someone (paper §4.1). True if it was removed.
   */
  failed(c: Contact): boolean {
    if (this.byId.get(c.idHex) !== c) return false;
    c.failures++;
    if (c.failures < STALE_AFTER_FAILURES) return false;
    const bucket = this.buckets[this.bucketIndex(c.id)]!;
    if (bucket.replacements.length === 0) return false;
    this.removeContact(c);
    return true;
  }

  /** Removes a contact for good (its address now belongs to another node, or it is shut out). */
  removeContact(c: Contact): void {
    if (this.byId.get(c.idHex) !== c) return;
    const bucket = this.buckets[this.bucketIndex(c.id)]!;
    this.byId.delete(c.idHex);
    const promoted = bucket.remove(c);
    if (promoted) this.byId.set(promoted.idHex, promoted);
  }

  /** A known node now answers at another address (after its old address stopped answering). */
  moveContact(c: Contact, address: string, port: number, now: number): void {
    c.address = address;
    c.port = port;
    c.failures = 0;
    c.lastSeen = now;
    this.buckets[this.bucketIndex(c.id)]!.touch(c);
  }

  /**
   * The n contacts closest to target. Bucket b = cpl(self, target) holds the closest ones; every bucket
   * above it comes next (their distance to target has the same top bit as ours); then b-1 down to 0.
   * Each group is sorted on the first 48 bits of the distance (exact ties fall back to all 160).
   * `usable` skips contacts the asker cannot use (another address family, another scope).
   */
  closest(target: Id, n = this.k, exclude?: string, usable?: (c: Contact) => boolean): Contact[] {
    const b = Math.min(this.bucketIndex(target), 159);
    const out: Contact[] = [];
    const t0 = (target[0]! << 16) | (target[1]! << 8) | target[2]!;
    const t1 = (target[3]! << 16) | (target[4]! << 8) | target[5]!;
    const take = (group: Contact[]) => {
      const keyed: { c: Contact; d: number }[] = [];
      for (const c of group) {
        if (c.idHex === exclude || (usable && !usable(c))) continue;
        const id = c.id;
        const d0 = ((id[0]! << 16) | (id[1]! << 8) | id[2]!) ^ t0;
        const d1 = ((id[3]! << 16) | (id[4]! << 8) | id[5]!) ^ t1;
        keyed.push({ c, d: d0 * 16777216 + d1 });
      }
      keyed.sort((x, y) => x.d - y.d || compareDistance(target, x.c.id, y.c.id));
      for (const k of keyed) {
        if (out.length >= n) return;
        out.push(k.c);
      }
    };
    take(this.buckets[b]!.contacts);
    if (out.length < n) {
      const above: Contact[] = [];
      for (let i = b + 1; i < 160; i++) for (const c of this.buckets[i]!.contacts) above.push(c);
      take(above);
    }
    for (let i = b - 1; i >= 0 && out.length < n; i--) take(this.buckets[i]!.contacts);
    return out;
  }

  /** Notes a lookup for target, so its bucket need not be refreshed (paper §2.3). */
  markLookup(target: Id, now: number): void {
    this.buckets[Math.min(this.bucketIndex(target), 159)]!.lastLookup = now;
  }

  /**
   * Random targets for buckets not looked up within `intervalMs`, for every bucket up to the one of our
   * closest neighbour (the buckets beyond are empty by construction and stay so). `unfilledOnly` skips full
   * buckets (a join refreshes to fill buckets; a full one gains nothing).
   */
  refreshTargets(now: number, intervalMs: number, unfilledOnly = false): Id[] {
    let deepest = -1;
    for (let i = 159; i >= 0; i--) {
      if (this.buckets[i]!.contacts.length) {
        deepest = i;
        break;
      }
    }
    const out: Id[] = [];
    for (let i = 0; i <= deepest; i++) {
      const b = this.buckets[i]!;
      if (unfilledOnly && b.full) continue;
      if (now - b.lastLookup >= intervalMs) out.push(randomIdInBucket(this.self, i, this.random));
    }
    return out;
  }
}
