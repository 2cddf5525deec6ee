import { describe, expect, test } from "bun:test";
import { cidrsOverlap, formatCidr, formatIPv4, ipv4ToBytes, ipv4ToNumber, isUnicastIPv4, parseCidr, requireIPv4 } from "./ipv4.ts";

describe("IPv4 parsing", () => {
  test("dotted quads round-trip", () => {
    for (const s of ["0.0.0.0", "10.0.1.2", "192.0.2.255", "255.255.255.255"]) expect(formatIPv4(ipv4ToNumber(s)!)).toBe(s);
    expect(ipv4ToNumber("10.0.1.2")).toBe(0x0a000102);
  });
  test("anything else is refused", () => {
    for (const s of ["", "10.0.1", "10.0.1.2.3", "256.0.0.1", "10.0.0.-1", "a.b.c.d", "::1", "10.0.0.1 ", "1e1.0.0.1"]) {
      expect(ipv4ToNumber(s)).toBeUndefined();
      expect(ipv4ToBytes(s)).toBeUndefined();
    }
    expect(() => requireIPv4("example.org", "client")).toThrow(/client "example.org" is not an IPv4 address/);
  });
  test("bytes, for IPv4-mapped IPv6 addresses too, and the same again from the cache", () => {
    expect(ipv4ToBytes("203.0.113.7")).toEqual([203, 0, 113, 7]);
    expect(ipv4ToBytes("::ffff:10.0.0.1")).toEqual([10, 0, 0, 1]);
    expect(ipv4ToBytes("203.0.113.7")).toEqual([203, 0, 113, 7]);
  });
  test("unicast check", () => {
    expect(isUnicastIPv4(ipv4ToNumber("10.0.0.1")!)).toBe(true);
    expect(isUnicastIPv4(ipv4ToNumber("0.0.0.0")!)).toBe(false);
    expect(isUnicastIPv4(ipv4ToNumber("224.0.0.1")!)).toBe(false);
  });
});

describe("IPv4 prefixes", () => {
  test("a CIDR within the allowed prefix lengths, with host bits cleared", () => {
    expect(formatCidr(parseCidr("10.201.7.9/24")!)).toBe("10.201.7.0/24");
    expect(parseCidr("10.201.7.0/8")).toBeUndefined(); // too wide for a bridge by default
    expect(parseCidr("10.201.7.0/30")).toBeUndefined();
    expect(parseCidr("10.1.2.10/32", 0, 32)).toEqual({ base: ipv4ToNumber("10.1.2.10")!, prefix: 32 });
    expect(parseCidr("nope/24")).toBeUndefined();
  });

  test("overlap: one prefix inside the other, or equal; disjoint ones do not", () => {
    const c = (s: string) => parseCidr(s, 0, 32)!;
    expect(cidrsOverlap(c("10.0.0.0/8"), c("10.201.7.0/24"))).toBe(true);
    expect(cidrsOverlap(c("10.201.7.0/24"), c("10.201.7.200/32"))).toBe(true);
    expect(cidrsOverlap(c("10.201.7.0/24"), c("10.201.8.0/24"))).toBe(false);
    expect(cidrsOverlap(c("0.0.0.0/0"), c("192.0.2.1/32"))).toBe(true);
  });
});
