import { describe, expect, test } from "bun:test";
import { formatIPv4, ipv4ToBytes, ipv4ToNumber, isUnicastIPv4, requireIPv4 } from "./ipv4.ts";

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
