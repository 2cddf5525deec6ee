import { describe, expect, test } from "bun:test";
import { generateIdentity, type Identity } from "../identity/identity.ts";
import { FakeClock } from "../util/clock.ts";
import { announcementOf, decodeAnnouncement, encodeAnnouncement } from "./announcement.ts";
import { keyOf, randomId, valueKey } from "./id.ts";
import { RecordKind, recordSize, signRecord, valueOf, valuePayload, verifyRecord, type SignedRecord } from "./record.ts";
import { RecordStore, VALUE_BUDGET } from "./record-store.ts";
import { toHex } from "../util/hex.ts";

const clock = new FakeClock();
const nowS = () => Math.floor(clock.now() / 1000);
const router = keyOf("router", "10.0.2.0/29");
const people = Array.from({ length: 12 }, () => generateIdentity());

/** An announcement of `who`, from an address in a /24 of its own unless `address` says otherwise. */
function announcement(who: Identity, rttMs: number, seq = 1, ttlS = 600, address = `10.0.${people.indexOf(who) + 1}.1`): SignedRecord {
  const payload = encodeAnnouncement({ address, dhtPort: 4100, peerPort: 4101, rttMs, hops: 4, timestamp: clock.now() });
  return signRecord(who, RecordKind.ANNOUNCEMENT, router, { seq, expiresAt: nowS() + ttlS, payload });
}

function value(who: Identity, key: Uint8Array, text: string, seq: number, ttlS = 600): SignedRecord {
  return signRecord(who, RecordKind.VALUE, key, { seq, expiresAt: nowS() + ttlS, payload: valuePayload(keyOf("value", "k"), new TextEncoder().encode(text)) });
}

describe("signed records", () => {
  const me = people[0]!;
  test("verify only under the key, kind and content they were signed for", () => {
    const r = announcement(me, 10);
    expect(verifyRecord(RecordKind.ANNOUNCEMENT, router, r)).toBe(true);
    expect(verifyRecord(RecordKind.ANNOUNCEMENT, keyOf("router", "10.0.3.0/29"), r)).toBe(false);
    expect(verifyRecord(RecordKind.VALUE, router, r)).toBe(false);
    for (const field of ["seq", "expiresAt"] as const) expect(verifyRecord(RecordKind.ANNOUNCEMENT, router, { ...r, [field]: r[field] + 1 })).toBe(false);
    const payload = r.payload.slice();
    payload[5]! ^= 1;
    expect(verifyRecord(RecordKind.ANNOUNCEMENT, router, { ...r, payload })).toBe(false);
    expect(verifyRecord(RecordKind.ANNOUNCEMENT, router, { ...r, publicKey: people[1]!.publicKey })).toBe(false);
  });
  test("a value verifies only under its own publisher's key for its name", () => {
    const name = keyOf("value", "greeting");
    const mine = valueKey(me.nodeId, name);
    expect(verifyRecord(RecordKind.VALUE, mine, value(me, mine, "hi", 1))).toBe(false); // payload names another key ("k")
    const sign = (who: Identity, key: Uint8Array) => signRecord(who, RecordKind.VALUE, key, { seq: 1, expiresAt: nowS() + 60, payload: valuePayload(name, new Uint8Array([1])) });
    expect(verifyRecord(RecordKind.VALUE, mine, sign(me, mine))).toBe(true);
    // Someone else's signature under my key, even with the largest seq there is, is not a value of mine.
    expect(verifyRecord(RecordKind.VALUE, mine, sign(people[1]!, mine))).toBe(false);
    expect(verifyRecord(RecordKind.VALUE, name, sign(me, name))).toBe(false); // the bare name's key: nobody's
  });
  test("an announcement carries the thesis fig 3.3 fields and names its node", () => {
    const a = announcementOf(announcement(me, 12.345));
    expect(a.nodeId).toBe(toHex(me.nodeId));
    expect(a.publicKey).toBe(toHex(me.publicKey));
    expect(a).toMatchObject({ address: "10.0.1.1", dhtPort: 4100, peerPort: 4101, rttMs: 12.345, hops: 4, timestamp: clock.now() });
    expect(a.price).toBeUndefined();
  });
  test("announcement payloads reject bad fields", () => {
    const good = encodeAnnouncement({ address: "10.0.0.1", dhtPort: 1, peerPort: 2, rttMs: 1, hops: 1, timestamp: 1, price: 2.5 });
    expect(decodeAnnouncement(good).price).toBe(2.5);
    const bad = (at: number, v: number) => {
      const b = good.slice();
      b[at] = v;
      return () => decodeAnnouncement(b);
    };
    expect(bad(0, 0)).toThrow("announcement.address"); // 0.x.x.x
    expect(() => decodeAnnouncement(good.slice(0, 19))).toThrow();
    expect(bad(13, 0x80)).toThrow("announcement.flags");
    const noPort = good.slice();
    noPort.fill(0, 4, 6);
    expect(() => decodeAnnouncement(noPort)).toThrow("announcement.dhtPort");
    expect(() => decodeAnnouncement(new Uint8Array([...good, 0]))).toThrow("bytes after");
    expect(() => encodeAnnouncement({ address: "0.0.0.0", dhtPort: 1, peerPort: 2, rttMs: 1, hops: 1, timestamp: 1 })).toThrow();
    expect(() => encodeAnnouncement({ address: "10.0.0.1", dhtPort: 1, peerPort: 2, rttMs: -1, hops: 1, timestamp: 1 })).toThrow();
    expect(() => encodeAnnouncement({ address: "10.0.0.1", dhtPort: 1, peerPort: 2, rttMs: 1, hops: 256, timestamp: 1 })).toThrow();
  });
});

describe("record store", () => {
  const self = randomId();
  const store = () => new RecordStore({ self, clock });

  test("a newer sequence number replaces the older one; stale ones and replays are refused", () => {
    const s = store();
    const key = keyOf("value", "k");
    const me = people[0]!;
    const v1 = value(me, key, "one", 10);
    const v2 = value(me, key, "two", 11);
    expect(s.put(RecordKind.VALUE, key, v1)).toBe("stored");
    expect(s.put(RecordKind.VALUE, key, v1)).toBe("unchanged");
    expect(s.put(RecordKind.VALUE, key, v2)).toBe("stored");
    expect(s.put(RecordKind.VALUE, key, v1)).toBe("stale");
    expect(s.put(RecordKind.VALUE, key, value(me, key, "other two", 11))).toBe("stale"); // same seq, other content
    expect(s.get(RecordKind.VALUE, key).map((r) => new TextDecoder().decode(valueOf(r)))).toEqual(["two"]);
  });

  test("expired records are refused, and expire in the store unless refreshed", async () => {
    const s = store();
    const key = keyOf("value", "e");
    expect(s.put(RecordKind.VALUE, key, value(people[0]!, key, "old", 1, -1))).toBe("expired");
    expect(s.put(RecordKind.VALUE, key, value(people[0]!, key, "x", 2, 60))).toBe("stored");
    expect(s.put(RecordKind.VALUE, key, value(people[0]!, key, "far", 3, 10 * 86_400))).toBe("invalid");
    await clock.advance(61_000);
    expect(s.get(RecordKind.VALUE, key)).toEqual([]);
    expect(s.sweep()).toBe(1);
    expect(s.keys).toBe(0);
    expect(s.bytes).toBe(0);
  });

  test("announcements from different nodes merge into one list ordered by RTT", () => {
    const s = store();
    const rtts = [50, 5, 20, 35];
    rtts.forEach((rtt, i) => expect(s.put(RecordKind.ANNOUNCEMENT, router, announcement(people[i]!, rtt))).toBe("stored"));
    // Node 0 measures again: its entry is replaced, not added.
    expect(s.put(RecordKind.ANNOUNCEMENT, router, announcement(people[0]!, 1, 2))).toBe("stored");
    const list = s.get(RecordKind.ANNOUNCEMENT, router).map(announcementOf);
    expect(list.map((a) => a.rttMs)).toEqual([1, 5, 20, 35]);
    expect(list[0]!.nodeId).toBe(toHex(people[0]!.nodeId));
  });

  test("the list is culled by the tail so that it always fits one reply", () => {
    const s = store();
    people.forEach((p, i) => s.put(RecordKind.ANNOUNCEMENT, router, announcement(p, 100 - i)));
    const kept = s.get(RecordKind.ANNOUNCEMENT, router);
    const size = kept.reduce((n, r) => n + recordSize(r), 0);
    expect(size).toBeLessThanOrEqual(VALUE_BUDGET);
    expect(kept.length).toBeLessThan(people.length);
    // The best (lowest RTT) ones stay; a worse newcomer is culled at once.
    expect(announcementOf(kept[0]!).rttMs).toBe(100 - (people.length - 1));
    const worst = generateIdentity();
    expect(s.put(RecordKind.ANNOUNCEMENT, router, announcement(worst, 500))).toBe("culled");
  });

  test("a culled publisher cannot replay its old record later", () => {
    const s = store();
    const p = people[0]!;
    const old = announcement(p, 400, 1);
    expect(s.put(RecordKind.ANNOUNCEMENT, router, announcement(p, 1, 5))).toBe("stored");
    expect(s.put(RecordKind.ANNOUNCEMENT, router, old)).toBe("stale");
  });

  test("storage is shared fairly: when full, the source holding most goes first, whatever the keys", () => {
    const s = new RecordStore({ self, clock, maxKeys: 6 });
    const near = () => {
      const k = randomId();
      k.set(self.subarray(0, 10)); // 80 bits shared with our id: the keys a flood would pick
      return k;
    };
    const honest = [randomId(), randomId()];
    for (const k of honest) expect(s.put(RecordKind.VALUE, k, value(people[0]!, k, "v", 1), "192.0.2")).toBe("stored");
    for (let i = 0; i < 20; i++) {
      const k = near();
      expect(s.put(RecordKind.VALUE, k, value(people[1]!, k, "v", 1), "203.0.113")).toBe("stored");
    }
    // The flood filled the store and then evicted only its own oldest records.
    expect(s.keys).toBe(6);
    for (const k of honest) expect(s.get(RecordKind.VALUE, k).length).toBe(1);
    expect(s.evicted).toBe(16);
    // A third source gets in by evicting from the heaviest, not from the honest one.
    const k = randomId();
    expect(s.put(RecordKind.VALUE, k, value(people[2]!, k, "v", 1), "198.51.100")).toBe("stored");
    for (const h of honest) expect(s.get(RecordKind.VALUE, h).length).toBe(1);
  });

  test("at most 2 announcements per announced /24 stay under a router key, the best ones", () => {
    const s = store();
    const sameNet = (i: number, rtt: number) => announcement(people[i]!, rtt, 1, 600, `10.9.9.${i + 1}`);
    expect(s.put(RecordKind.ANNOUNCEMENT, router, sameNet(0, 30))).toBe("stored");
    expect(s.put(RecordKind.ANNOUNCEMENT, router, sameNet(1, 20))).toBe("stored");
    expect(s.put(RecordKind.ANNOUNCEMENT, router, sameNet(2, 40))).toBe("culled");
    expect(s.put(RecordKind.ANNOUNCEMENT, router, sameNet(3, 10))).toBe("stored"); // displaces the 30 ms one
    expect(s.put(RecordKind.ANNOUNCEMENT, router, announcement(people[4]!, 50))).toBe("stored"); // another /24
    expect(s.get(RecordKind.ANNOUNCEMENT, router).map((r) => announcementOf(r).rttMs)).toEqual([10, 20, 50]);
  });

  test("IPv6-only announcements count per /48: other /64s of one site do not add places", () => {
    const s = store();
    const site = (i: number, rtt: number) => announcement(people[i]!, rtt, 1, 600, `2d00:1c0:9:${i + 1}::1`);
    expect(s.put(RecordKind.ANNOUNCEMENT, router, site(0, 30))).toBe("stored");
    expect(s.put(RecordKind.ANNOUNCEMENT, router, site(1, 20))).toBe("stored");
    expect(s.put(RecordKind.ANNOUNCEMENT, router, site(2, 40))).toBe("culled");
    expect(s.put(RecordKind.ANNOUNCEMENT, router, announcement(people[3]!, 50, 1, 600, "2d00:1c0:a::1"))).toBe("stored");
    expect(s.get(RecordKind.ANNOUNCEMENT, router).map((r) => announcementOf(r).rttMs)).toEqual([20, 30, 50]);
  });

  test("byte bound holds", () => {
    const s = new RecordStore({ self, clock, maxBytes: 2000 });
    for (let i = 0; i < 50; i++) {
      const k = randomId();
      s.put(RecordKind.VALUE, k, value(people[0]!, k, "x".repeat(100), 1));
    }
    expect(s.bytes).toBeLessThanOrEqual(2000);
    expect(s.keys).toBeGreaterThan(0);
  });
});
