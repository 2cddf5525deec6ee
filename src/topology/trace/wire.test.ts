import { describe, expect, test } from "bun:test";
import { ipv6ToBytes } from "../../util/ipv6.ts";
import { controlMessages, decodeSockaddr, encodeSockaddrIn, encodeSockaddrIn6, parseErrorMessage, RecvBuffers } from "./wire.ts";

/** Builds the control buffer the kernel writes for one error-queue read, field by field (LP64). */
function cmsg(level: number, type: number, data: number[]): number[] {
  const len = 16 + data.length;
  const head = [...le64(len), ...le32(level), ...le32(type)];
  const padded = [...head, ...data];
  while (padded.length % 8) padded.push(0xee); // CMSG_ALIGN padding: garbage the parser must skip
  return padded;
}
const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const le64 = (n: number) => [...le32(n), 0, 0, 0, 0];
const sockaddr = (ip: number[], port: number, family = 2) => [family, 0, port >> 8, port & 255, ...ip, 0, 0, 0, 0, 0, 0, 0, 0];
function extendedErr(errno: number, origin: number, type: number, code: number, offender?: number[]): number[] {
  return [...le32(errno), origin, type, code, 0, ...le32(0), ...le32(0), ...(offender ? sockaddr(offender, 0) : [])];
}
/** struct sockaddr_in6: family, port, flow info, 16 address bytes, scope id. */
const sockaddr6 = (ip: string, port: number) => [10, 0, port >> 8, port & 255, 0, 0, 0, 0, ...ipv6ToBytes(ip)!, 0, 0, 0, 0];
const timespec = (sec: number, nsec: number) => [...le64(sec), ...le64(nsec)];

describe("sockaddr_in", () => {
  test("encodes family little-endian, port and address big-endian", () => {
    expect([...encodeSockaddrIn(0x0a000102, 33434)]).toEqual(sockaddr([10, 0, 1, 2], 33434));
  });
  test("decodes what it encodes, and refuses other families or short buffers", () => {
    expect(decodeSockaddr(encodeSockaddrIn(0xc0000201, 4100))).toEqual({ address: "192.0.2.1", port: 4100 });
    expect(decodeSockaddr(new Uint8Array(sockaddr([1, 2, 3, 4], 1, 10)))).toBeUndefined();
    expect(decodeSockaddr(new Uint8Array(4))).toBeUndefined();
  });
});

describe("sockaddr_in6", () => {
  test("encodes family, port, a zero flow label and scope, and decodes to the canonical text", () => {
    expect([...encodeSockaddrIn6(ipv6ToBytes("2d00:1c0::1")!, 33434)]).toEqual(sockaddr6("2d00:1c0::1", 33434));
    expect(decodeSockaddr(new Uint8Array(sockaddr6("2D00:01C0:0:0:0:0:0:0010", 53)))).toEqual({ address: "2d00:1c0::10", port: 53 });
    // an AF_INET6 family on a buffer too short for the address is refused
    expect(decodeSockaddr(new Uint8Array(sockaddr6("2d00::1", 1).slice(0, 16)))).toBeUndefined();
  });
});

describe("error-queue messages", () => {
  test("an ICMPv6 time exceeded (SOL_IPV6, IPV6_RECVERR) with its sockaddr_in6 offender and probe port", () => {
    const err = [...le32(113), 3, 3, 0, 0, ...le32(0), ...le32(0), ...sockaddr6("2d00:1c0:0:2::1", 0)];
    const control = new Uint8Array([...cmsg(41, 25, err), ...cmsg(1, 35, timespec(1_700_000_000, 1_000_000))]);
    const name = new Uint8Array(sockaddr6("2d00:1c0:1:2::10", 33435));
    const m = parseErrorMessage(control, control.length, name, 28);
    expect(m.error).toEqual({ errno: 113, origin: 3, type: 3, code: 0, offender: "2d00:1c0:0:2::1" });
    expect(m.rxTimeMs).toBeCloseTo(1_700_000_000_001, 3);
    expect(m.probePort).toBe(33435);
  });
  test("a TTL-exceeded error with its offender, kernel timestamp and probe port", () => {
    const control = new Uint8Array([
      ...cmsg(1, 35, timespec(1_700_000_000, 250_500_000)),
      ...cmsg(0, 11, extendedErr(113, 2, 11, 0, [10, 9, 8, 7])),
    ]);
    const name = new Uint8Array(sockaddr([192, 0, 2, 99], 33436));
    const m = parseErrorMessage(control, control.length, name, 16);
    expect(m.error).toEqual({ errno: 113, origin: 2, type: 11, code: 0, offender: "10.9.8.7" });
    expect(m.rxTimeMs).toBeCloseTo(1_700_000_000_250.5, 3);
    expect(m.probePort).toBe(33436);
  });
  test("a port unreachable without an offender address", () => {
    const control = new Uint8Array(cmsg(0, 11, extendedErr(111, 2, 3, 3)));
    const m = parseErrorMessage(control, control.length, new Uint8Array(16), 0);
    expect(m.error).toEqual({ errno: 111, origin: 2, type: 3, code: 3 });
    expect(m.rxTimeMs).toBeUndefined();
    expect(m.probePort).toBeUndefined();
  });
  test("ignores unknown control messages and stops at a truncated one", () => {
    const full = [...cmsg(1, 29, [1, 2, 3, 4]), ...cmsg(0, 11, extendedErr(113, 2, 11, 0, [1, 1, 1, 1]))];
    const all = [...controlMessages(new Uint8Array(full), full.length)];
    expect(all.map((c) => [c.level, c.type])).toEqual([[1, 29], [0, 11]]);
    // the kernel's controllen says the second message is cut short (MSG_CTRUNC)
    const cut = [...controlMessages(new Uint8Array(full), full.length - 8)];
    expect(cut.map((c) => c.type)).toEqual([29]);
    expect([...controlMessages(new Uint8Array([...le64(3), 0, 0, 0, 0, 0, 0, 0, 0]), 16)]).toEqual([]);
  });
  test("a too-short extended error yields no error", () => {
    const control = new Uint8Array(cmsg(0, 11, [1, 2, 3]));
    expect(parseErrorMessage(control, control.length, new Uint8Array(16), 0).error).toBeUndefined();
  });
});

describe("RecvBuffers", () => {
  test("reset restores the lengths the kernel overwrites", () => {
    const b = new RecvBuffers();
    const header = b.reset();
    const v = new DataView(header.buffer, header.byteOffset, header.byteLength);
    v.setUint32(8, 3, true);
    v.setBigUint64(40, 7n, true);
    expect(b.nameLength).toBe(3);
    expect(b.controlLength).toBe(7);
    b.reset();
    expect(b.nameLength).toBe(28); // room for a sockaddr_in6
    expect(b.controlLength).toBe(256);
    expect(v.getBigUint64(24, true)).toBe(1n); // one iovec
  });
});
