import { describe, expect, test } from "bun:test";
import { isIconError } from "../errors.ts";
import { canonicalIPv6, formatIPv6, ipv6ToBytes, isGlobalIPv6, networkOfIPv6, requireIP } from "./ipv6.ts";

describe("IPv6 text", () => {
  test("parses the forms RFC 4291 allows and prints RFC 5952's canonical one", () => {
    expect(canonicalIPv6("2D00:01C0:0000:0001:0000:0000:0000:0001")).toBe("2d00:1c0:0:1::1");
    expect(canonicalIPv6("::")).toBe("::");
    expect(canonicalIPv6("::1")).toBe("::1");
    expect(canonicalIPv6("fe80::")).toBe("fe80::");
    // one zero group stays a 0; of two equal runs the first becomes "::"
    expect(canonicalIPv6("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1");
    expect(canonicalIPv6("2001:0:0:1:0:0:1:1")).toBe("2001::1:0:0:1:1");
    expect(canonicalIPv6("1:0:0:2:0:0:0:3")).toBe("1:0:0:2::3");
  });
  test("refuses what is not one address", () => {
    for (const bad of ["", ":", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1", "::1%eth0", "1:2:3:4:5:6:7::8", "10.0.0.1", ":1::", "::1.2.3"])
      expect(ipv6ToBytes(bad)).toBeUndefined();
  });
  test("bytes round-trip", () => {
    const b = ipv6ToBytes("2d00:1c0:2:3::a")!;
    expect([...b.slice(0, 6)]).toEqual([0x2d, 0, 1, 0xc0, 0, 2]);
    expect(b[15]).toBe(10);
    expect(formatIPv6(b)).toBe("2d00:1c0:2:3::a");
  });
});

describe("IPv6 prefixes", () => {
  test("masks to any length, including inside a byte", () => {
    const b = ipv6ToBytes("2d00:1c0:0:1:ffff:ffff:ffff:ffff")!;
    expect(networkOfIPv6(b, 64)).toBe("2d00:1c0:0:1::");
    expect(networkOfIPv6(b, 68)).toBe("2d00:1c0:0:1:f000::");
    expect(networkOfIPv6(b, 128)).toBe("2d00:1c0:0:1:ffff:ffff:ffff:ffff");
    expect(networkOfIPv6(b, 0)).toBe("::");
    expect(() => networkOfIPv6(b, 129)).toThrow();
  });
  test("global unicast outside the documentation prefix", () => {
    expect(isGlobalIPv6(ipv6ToBytes("2d00:1c0::1")!)).toBe(true);
    for (const a of ["2001:db8::1", "fe80::1", "fd00::1", "::1", "ff02::1"]) expect(isGlobalIPv6(ipv6ToBytes(a)!)).toBe(false);
  });
  test("requireIP takes either family and says what is wrong", () => {
    expect(requireIP("192.0.2.1")).toEqual({ family: 4, n: 0xc0000201 });
    expect(requireIP("::1").family).toBe(6);
    const e = (() => { try { requireIP("example.com", "client"); } catch (x) { return x; } })();
    expect(isIconError(e, "INVALID_INPUT")).toBe(true);
    expect((e as Error).message).toContain('client "example.com"');
  });
});
