import { describe, expect, test } from "bun:test";
import { LRS_PING_AFTER_MS, STALE_AFTER_FAILURES } from "./constants.ts";
import { commonPrefixLength, compareDistance, fromHex, keyOf, randomId, randomIdInBucket, xor, type Id } from "./id.ts";
import { RoutingTable } from "./routing-table.ts";
import { toHex } from "../util/hex.ts";

/** An id sharing exactly `prefix` bits with `self`. */
const inBucket = (self: Id, prefix: number) => randomIdInBucket(self, prefix);

function bigint(id: Id): bigint {
  return BigInt("0x" + toHex(id));
}

describe("XOR metric and bucket maths", () => {
  test("xor distance is symmetric, zero only to itself, and obeys the triangle inequality", () => {
    for (let i = 0; i < 50; i++) {
      const [a, b, c] = [randomId(), randomId(), randomId()];
      expect(xor(a, b)).toEqual(xor(b, a));
      expect(bigint(xor(a, a))).toBe(0n);
      expect(bigint(xor(a, c)) <= bigint(xor(a, b)) + bigint(xor(b, c))).toBe(true);
    }
  });
  test("compareDistance orders like the integer distance", () => {
    for (let i = 0; i < 200; i++) {
      const [t, a, b] = [randomId(), randomId(), randomId()];
      const da = bigint(xor(a, t));
      const db = bigint(xor(b, t));
      expect(Math.sign(compareDistance(t, a, b))).toBe(da < db ? -1 : da > db ? 1 : 0);
    }
  });
  test("common prefix length counts shared leading bits", () => {
    const a = fromHex("f".repeat(40));
    expect(commonPrefixLength(a, a)).toBe(160);
    expect(commonPrefixLength(a, fromHex("7" + "f".repeat(39)))).toBe(0);
    expect(commonPrefixLength(a, fromHex("fe" + "f".repeat(38)))).toBe(7);
    expect(commonPrefixLength(a, fromHex("f".repeat(39) + "e"))).toBe(159);
  });
  test("randomIdInBucket lands in the asked bucket for every prefix", () => {
    const self = randomId();
    for (let p = 0; p < 160; p++) expect(commonPrefixLength(self, inBucket(self, p))).toBe(p);
  });
  test("keys live in separate namespaces", () => {
    expect(keyOf("value", "x")).not.toEqual(keyOf("router", "x"));
    expect(keyOf("router", "10.0.2.0/29")).toEqual(keyOf("router", "10.0.2.0/29"));
  });
});

describe("routing table", () => {
  const self = randomId();
  const now = 10_000_000;

  test("contacts land in the bucket of their shared prefix; ourselves never", () => {
    const t = new RoutingTable(self);
    expect(t.heard(self, toHex(self), "10.0.0.1", 1, now).kind).toBe("self");
    const id = inBucket(self, 5);
    expect(t.heard(id, toHex(id), "10.0.0.2", 1, now).kind).toBe("added");
    expect(t.bucket(5).contacts.map((c) => c.idHex)).toEqual([toHex(id)]);
    expect(t.size).toBe(1);
  });

  test("closest() returns exactly the n nearest, in order, like a brute-force sort", () => {
    const t = new RoutingTable(self);
    const all: Id[] = [];
    for (let i = 0; i < 400; i++) {
      const id = randomId();
      if (t.heard(id, toHex(id), "10.0.0.1", i + 1, now).kind === "added") all.push(id);
    }
    for (let i = 0; i < 30; i++) {
      const target = i % 3 === 0 ? inBucket(self, i) : randomId();
      const want = [...all].sort((a, b) => compareDistance(target, a, b)).slice(0, 20).map(toHex);
      expect(t.closest(target, 20).map((c) => c.idHex)).toEqual(want);
    }
  });

  test("a full bucket keeps newcomers as replacements and names its least recently seen contact", () => {
    const t = new RoutingTable(self, 4);
    const ids = Array.from({ length: 4 }, () => inBucket(self, 0));
    ids.forEach((id, i) => t.heard(id, toHex(id), "10.0.0.1", 100 + i, now));
    const extra = inBucket(self, 0);
    const h = t.heard(extra, toHex(extra), "10.0.0.9", 9, now + LRS_PING_AFTER_MS);
    expect(h.kind).toBe("replacement");
    if (h.kind === "replacement") expect(h.ping?.idHex).toBe(toHex(ids[0]!));
    expect(t.get(toHex(extra))).toBeUndefined();
    // Hearing from the head again moves it to the tail: the next one becomes least recently seen.
    t.heard(ids[0]!, toHex(ids[0]!), "10.0.0.1", 100, now + LRS_PING_AFTER_MS);
    expect(t.bucket(0).head()?.idHex).toBe(toHex(ids[1]!));
  });

  test("one failure does not evict; STALE_AFTER_FAILURES do, and a replacement takes the place", () => {
    const t = new RoutingTable(self, 2);
    const [a, b, r] = [inBucket(self, 3), inBucket(self, 3), inBucket(self, 3)];
    t.heard(a, toHex(a), "10.0.0.1", 1, now);
    t.heard(b, toHex(b), "10.0.0.1", 2, now);
    t.heard(r, toHex(r), "10.0.0.1", 3, now); // replacement
    const ca = t.get(toHex(a))!;
    for (let i = 1; i < STALE_AFTER_FAILURES; i++) expect(t.failed(ca)).toBe(false);
    expect(t.get(toHex(a))).toBe(ca);
    expect(t.failed(ca)).toBe(true);
    expect(t.get(toHex(a))).toBeUndefined();
    expect(t.get(toHex(r))?.address).toBe("10.0.0.1");
    expect(t.size).toBe(2);
  });

  test("a stale contact stays when nobody can replace it (paper §4.1)", () => {
    const t = new RoutingTable(self, 2);
    const a = inBucket(self, 3);
    t.heard(a, toHex(a), "10.0.0.1", 1, now);
    const ca = t.get(toHex(a))!;
    for (let i = 0; i < STALE_AFTER_FAILURES + 2; i++) t.failed(ca);
    expect(t.get(toHex(a))).toBe(ca);
  });

  test("any message resets the failure count", () => {
    const t = new RoutingTable(self);
    const a = inBucket(self, 1);
    t.heard(a, toHex(a), "10.0.0.1", 1, now);
    const ca = t.get(toHex(a))!;
    t.failed(ca);
    t.failed(ca);
    t.heard(a, toHex(a), "10.0.0.1", 1, now + 1);
    expect(ca.failures).toBe(0);
  });

  test("a stale head is replaced at once when a newcomer arrives", () => {
    const t = new RoutingTable(self, 1);
    const [a, b] = [inBucket(self, 2), inBucket(self, 2)];
    t.heard(a, toHex(a), "10.0.0.1", 1, now);
    const ca = t.get(toHex(a))!;
    for (let i = 0; i < STALE_AFTER_FAILURES; i++) t.failed(ca);
    expect(t.heard(b, toHex(b), "10.0.0.2", 2, now).kind).toBe("added");
    expect(t.get(toHex(a))).toBeUndefined();
  });

  test("a known id at a new address is reported, not moved", () => {
    const t = new RoutingTable(self);
    const a = inBucket(self, 1);
    t.heard(a, toHex(a), "10.0.0.1", 1, now);
    expect(t.heard(a, toHex(a), "10.6.6.6", 1, now).kind).toBe("moved");
    expect(t.get(toHex(a))?.address).toBe("10.0.0.1");
  });

  test("refresh targets cover the buckets up to our closest neighbour that were not looked up", () => {
    const t = new RoutingTable(self);
    const near = inBucket(self, 9);
    t.heard(near, toHex(near), "10.0.0.1", 1, now);
    const targets = t.refreshTargets(now, 3_600_000);
    expect(targets.map((id) => commonPrefixLength(self, id))).toEqual(Array.from({ length: 10 }, (_, i) => i));
    t.markLookup(inBucket(self, 4), now);
    expect(t.refreshTargets(now + 1, 3_600_000).map((id) => commonPrefixLength(self, id))).not.toContain(4);
  });
});
