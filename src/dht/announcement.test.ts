import { describe, expect, test } from "bun:test";
import { addressOf, decodeAnnouncement, encodeAnnouncement, type AnnouncementPayload } from "./announcement.ts";
import { DecodeError } from "./wire.ts";

const base = { dhtPort: 4100, peerPort: 4101, rttMs: 12.5, hops: 3, timestamp: 1_700_000_000_000 };

function rejects(bytes: Uint8Array, field: string): void {
  expect(() => decodeAnnouncement(bytes)).toThrow(DecodeError);
  expect(() => decodeAnnouncement(bytes)).toThrow(field);
}

describe("announcement payload", () => {
  test("IPv4 only: 20 bytes, 24 with a price, byte for byte the pre-IPv6 layout", () => {
    const a: AnnouncementPayload = { address: "203.0.113.9", ...base };
    const bytes = encodeAnnouncement(a);
    expect(bytes.length).toBe(20);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([203, 0, 113, 9]);
    expect(bytes[13]).toBe(0); // flags
    expect(decodeAnnouncement(bytes)).toEqual(a);
    expect(encodeAnnouncement({ ...a, price: 0.5 }).length).toBe(24);
  });
  test("IPv4 and IPv6: both come back, the IPv6 address last", () => {
    const a: AnnouncementPayload = { address: "203.0.113.9", address6: "2d00:1c0:5::2", ...base, price: 0.25 };
    const bytes = encodeAnnouncement(a);
    expect(bytes.length).toBe(40);
    expect(bytes[13]).toBe(0x03);
    expect(decodeAnnouncement(bytes)).toEqual(a);
    expect(addressOf(a, 4)).toBe("203.0.113.9");
    expect(addressOf(a, 6)).toBe("2d00:1c0:5::2");
  });
  test("IPv6 only: IPv4 written as 0.0.0.0, the address comes back canonical in `address`", () => {
    const bytes = encodeAnnouncement({ address: "2D00:1C0:5:0::2", ...base });
    expect(bytes.length).toBe(36);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    const a = decodeAnnouncement(bytes);
    expect(a.address).toBe("2d00:1c0:5::2");
    expect(a.address6).toBeUndefined();
    expect(addressOf(a, 4)).toBeUndefined();
    expect(addressOf(a, 6)).toBe("2d00:1c0:5::2");
  });
  test("the encoder refuses what the decoder would", () => {
    expect(() => encodeAnnouncement({ address: "2d00:1c0::2", address6: "2d00:1c0::3", ...base })).toThrow(/needs an IPv4 address/);
    expect(() => encodeAnnouncement({ address: "10.0.0.1", address6: "fe80::1", ...base })).toThrow(/not a unicast, non-link-local IPv6/);
    expect(() => encodeAnnouncement({ address: "ff02::1", ...base })).toThrow(/not a unicast, non-link-local IPv6/);
    expect(decodeAnnouncement(encodeAnnouncement({ address: "::ffff:10.0.0.1", ...base })).address).toBe("10.0.0.1"); // mapped is IPv4
    expect(() => encodeAnnouncement({ address: "0.0.0.0", ...base })).toThrow(/not a unicast IPv4/);
  });
  test("malformed payloads are refused by field", () => {
    const both = encodeAnnouncement({ address: "203.0.113.9", address6: "2d00:1c0:5::2", ...base });
    rejects(both.subarray(0, 30), "announcement.address6");
    rejects(new Uint8Array([...both, 0]), "bytes after the fields");
    const v4only = encodeAnnouncement({ address: "203.0.113.9", ...base });
    const none = v4only.slice();
    none.fill(0, 0, 4);
    rejects(none, "neither IPv4 nor IPv6");
    const unknown = v4only.slice();
    unknown[13] = 0x04;
    rejects(unknown, "announcement.flags");
    const multicast6 = both.slice();
    multicast6[20] = 0xff;
    rejects(multicast6, "announcement.address6");
    const linkLocal6 = both.slice();
    linkLocal6.set([0xfe, 0x80], 20);
    rejects(linkLocal6, "announcement.address6");
  });
});
