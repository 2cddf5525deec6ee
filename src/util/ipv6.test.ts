import { describe, expect, test } from "bun:test";
import { isIconError } from "../errors.ts";
import { bindAddresses, canonicalIPv6, familyOf, formatIPv6, hostPort, ipv6ToBytes, isIPv6, isUnicastIPv6, limitKey, networkOfIPv6, parseHostPort, requireIP, sybilNet } from "./ipv6.ts";

describe("IPv6 parsing", () => {
  test("every text form of one address gives its RFC 5952 text", () => {
    const cases: [string, string][] = [
      ["2d00:01c0:0000:0000:0000:0000:0000:0001", "2d00:1c0::1"],
      ["2D00:1C0::1", "2d00:1c0::1"],
      ["::", "::"],
      ["::1", "::1"],
      ["fe80::", "fe80::"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of two equal runs
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // one zero group stays
      ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
      ["::ffff:c000:201", "::ffff:192.0.2.1"],
      ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"],
    ];
    for (const [input, text] of cases) expect(canonicalIPv6(input)).toBe(text);
    expect(Array.from(ipv6ToBytes("2d00:1c0::1")!)).toEqual([0x2d, 0, 1, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(formatIPv6(ipv6ToBytes("1:2:3:4:5:6:7:8")!)).toBe("1:2:3:4:5:6:7:8");
  });
  test("anything else is refused", () => {
    for (const s of ["", ":", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "fe80::1%eth0", "::1.2.3", "1.2.3.4::", "10.0.0.1", "g::1", "1:2:3:4:5:6:7::8", " ::1"]) {
      expect(isIPv6(s)).toBe(false);
    }
  });
});

describe("Sybil networks", () => {
  test("/24 for IPv4 (mapped too), /48 for IPv6", () => {
    expect(sybilNet("192.0.2.77")).toBe("192.0.2");
    expect(sybilNet("::ffff:192.0.2.77")).toBe("192.0.2");
    expect(sybilNet("2d00:1c0:7:ff::9")).toBe("2d00:1c0:7::/48");
    expect(sybilNet("2d00:1c0:7:1::1")).toBe(sybilNet("2d00:1c0:7:2::1"));
    expect(sybilNet("2d00:1c0:7::1")).not.toBe(sybilNet("2d00:1c0:8::1"));
  });
});

describe("IPv6 prefixes and input", () => {
  test("masks to any length, including inside a byte", () => {
    const b = ipv6ToBytes("2d00:1c0:0:1:ffff:ffff:ffff:ffff")!;
    expect(networkOfIPv6(b, 64)).toBe("2d00:1c0:0:1::");
    expect(networkOfIPv6(b, 68)).toBe("2d00:1c0:0:1:f000::");
    expect(networkOfIPv6(b, 128)).toBe("2d00:1c0:0:1:ffff:ffff:ffff:ffff");
    expect(networkOfIPv6(b, 0)).toBe("::");
    expect(() => networkOfIPv6(b, 129)).toThrow();
  });
  test("unicast beyond this link is worth tracing; loopback, mapped, link-local and multicast are not", () => {
    for (const a of ["2d00:1c0::1", "fd00::1", "2001:db8::1"]) expect(isUnicastIPv6(ipv6ToBytes(a)!)).toBe(true);
    for (const a of ["::", "::1", "::ffff:10.0.0.1", "fe80::1", "febf::1", "ff02::1"]) expect(isUnicastIPv6(ipv6ToBytes(a)!)).toBe(false);
  });
  test("requireIP takes either family and says what is wrong", () => {
    expect(requireIP("192.0.2.1")).toEqual({ family: 4, n: 0xc0000201 });
    expect(requireIP("::1").family).toBe(6);
    let e: unknown;
    try {
      requireIP("example.com", "client");
    } catch (x) {
      e = x;
    }
    expect(isIconError(e, "INVALID_INPUT")).toBe(true);
    expect((e as Error).message).toContain('client "example.com"');
  });
});

describe("endpoints and binds", () => {
  test("HOST:PORT with an IPv6 host in brackets", () => {
    expect(parseHostPort("192.0.2.1:4100")).toEqual({ address: "192.0.2.1", port: 4100 });
    expect(parseHostPort("[2D00:1C0::0001]:4100")).toEqual({ address: "2d00:1c0::1", port: 4100 });
    for (const s of ["2d00:1c0::1:4100", "[192.0.2.1]:4100", "[::1]:0", "[::1]:65536", "host:4100", "[::1]"]) expect(parseHostPort(s)).toBeUndefined();
    expect(hostPort("::1", 4100)).toBe("[::1]:4100");
    expect(hostPort("10.0.0.1", 4100)).toBe("10.0.0.1:4100");
  });
  test("listen and listen6 to sockets", () => {
    expect(bindAddresses("0.0.0.0", "")).toEqual({ address: "0.0.0.0", address6: "::", dual: true });
    expect(bindAddresses("0.0.0.0", "off")).toEqual({ address: "0.0.0.0", dual: false });
    expect(bindAddresses("10.0.0.5", "")).toEqual({ address: "10.0.0.5", dual: false });
    expect(bindAddresses("10.0.0.5", "2d00:1c0::5")).toEqual({ address: "10.0.0.5", address6: "2d00:1c0::5", dual: false });
    expect(() => bindAddresses("10.0.0.5", "::")).toThrow(/listen6 :: needs listen 0.0.0.0/);
  });
  test("families and per-/64 limit keys", () => {
    expect([familyOf("10.0.0.1"), familyOf("::ffff:10.0.0.1"), familyOf("2d00::1"), familyOf("x")]).toEqual([4, 4, 6, undefined]);
    expect(limitKey("10.0.0.1")).toBe("10.0.0.1");
    expect(limitKey("2d00:1c0:1:2:aaaa::1")).toBe("2d00:1c0:1:2::/64");
    expect(limitKey("2d00:1c0:1:2:bbbb::9")).toBe(limitKey("2d00:1c0:1:2:aaaa::1"));
  });
});
