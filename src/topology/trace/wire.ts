/**
 * The C structures of one error-queue read, laid out by hand for LP64 Linux (x86-64, arm64):
 * `struct msghdr` for recvmsg, the control messages it returns (`struct cmsghdr` + data), the
 * `struct sock_extended_err` IP_RECVERR (IPV6_RECVERR) queues with the offender's `struct sockaddr_in`
 * (`sockaddr_in6`) right after it (SO_EE_OFFENDER), and the `struct timespec` of SCM_TIMESTAMPNS. Parsing
 * is pure so tests can feed bytes.
 */
import { ptr } from "bun:ffi";
import { formatIPv4 } from "../../util/ipv4.ts";
import { formatIPv6 } from "../../util/ipv6.ts";
import { AF_INET, AF_INET6, IP_RECVERR, IPV6_RECVERR, SCM_TIMESTAMPNS, SOL_IP, SOL_IPV6, SOL_SOCKET } from "./libc.ts";

export const SOCKADDR_IN_BYTES = 16;
export const SOCKADDR_IN6_BYTES = 28;
export const MSGHDR_BYTES = 56;
export const CMSGHDR_BYTES = 16; // size_t cmsg_len; int cmsg_level; int cmsg_type
export const SOCK_EXTENDED_ERR_BYTES = 16;
/** Room for an IPV6_RECVERR cmsg (16 + 16 + 28) and an SCM_TIMESTAMPNS cmsg (16 + 16), with slack. */
export const CONTROL_BYTES = 256;

/** ee_origin of an ICMP and of an ICMPv6 error (linux/errqueue.h). */
export const SO_EE_ORIGIN_ICMP = 2;
export const SO_EE_ORIGIN_ICMP6 = 3;

/** ICMP types and codes the tracer tells apart (RFC 792). */
export const ICMP_DEST_UNREACH = 3;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_TIME_EXCEEDED = 11;
/** ICMPv6 types and codes the tracer tells apart (RFC 4443). */
export const ICMP6_DST_UNREACH = 1;
export const ICMP6_PORT_UNREACH = 4;
export const ICMP6_TIME_EXCEEDED = 3;

export interface ExtendedError {
  /** errno the kernel maps the ICMP error to (EHOSTUNREACH, ECONNREFUSED...). */
  errno: number;
  origin: number;
  type: number;
  code: number;
  /** The address that sent the ICMP error; undefined when the kernel gave none (SO_EE_OFFENDER). */
  offender?: string;
}

export interface ErrorMessage {
  error?: ExtendedError;
  /** Kernel receive time of the ICMP error, CLOCK_REALTIME in ms; undefined without SO_TIMESTAMPNS. */
  rxTimeMs?: number;
  /** Destination port of the probe that caused the error (from msg_name). */
  probePort?: number;
}

export function encodeSockaddrIn(ipv4: number, port: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN_BYTES);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  v.setUint32(4, ipv4, false);
  return b;
}

/** A `struct sockaddr_in6` (flow info and scope id zero: global destinations only). */
export function encodeSockaddrIn6(ipv6: Uint8Array, port: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN6_BYTES);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET6, true);
  v.setUint16(2, port, false);
  b.set(ipv6, 8);
  return b;
}

/**
 * Address and port of a `struct sockaddr_in` or `struct sockaddr_in6`, or undefined when it is neither
 * or too short. IPv6 addresses come out canonical (RFC 5952), as util/ipv6.ts prints them.
 */
export function decodeSockaddr(b: Uint8Array, offset = 0, length = b.length - offset): { address: string; port: number } | undefined {
  if (length < 8 || offset + 8 > b.length) return undefined;
  const v = new DataView(b.buffer, b.byteOffset + offset, Math.min(length, b.length - offset));
  const family = v.getUint16(0, true);
  if (family === AF_INET) return { port: v.getUint16(2, false), address: formatIPv4(v.getUint32(4, false)) };
  if (family !== AF_INET6 || v.byteLength < 24) return undefined;
  return { port: v.getUint16(2, false), address: formatIPv6(b.subarray(offset + 8, offset + 24)) };
}

const align8 = (n: number) => (n + 7) & ~7;

/** Walks the control messages of one recvmsg (CMSG_FIRSTHDR/CMSG_NXTHDR). */
export function* controlMessages(control: Uint8Array, length: number): Generator<{ level: number; type: number; data: Uint8Array }> {
  const v = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const end = Math.min(length, control.length);
  let off = 0;
  while (off + CMSGHDR_BYTES <= end) {
    const len = Number(v.getBigUint64(off, true));
    if (len < CMSGHDR_BYTES || off + len > end) return; // truncated (MSG_CTRUNC) or garbage: stop
    yield { level: v.getInt32(off + 8, true), type: v.getInt32(off + 12, true), data: control.subarray(off + CMSGHDR_BYTES, off + len) };
    off += align8(len);
  }
}

export function parseExtendedError(data: Uint8Array): ExtendedError | undefined {
  if (data.length < SOCK_EXTENDED_ERR_BYTES) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const offender = decodeSockaddr(data, SOCK_EXTENDED_ERR_BYTES);
  return {
    errno: v.getUint32(0, true),
    origin: v.getUint8(4),
    type: v.getUint8(5),
    code: v.getUint8(6),
    ...(offender ? { offender: offender.address } : {}),
  };
}

export function parseTimespecMs(data: Uint8Array): number | undefined {
  if (data.length < 16) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Number(v.getBigInt64(0, true)) * 1000 + Number(v.getBigInt64(8, true)) / 1e6;
}

/** Everything one error-queue message says: the ICMP error, its arrival time, the probe's port. */
export function parseErrorMessage(control: Uint8Array, controlLength: number, name: Uint8Array, nameLength: number): ErrorMessage {
  const msg: ErrorMessage = {};
  for (const c of controlMessages(control, controlLength)) {
    if ((c.level === SOL_IP && c.type === IP_RECVERR) || (c.level === SOL_IPV6 && c.type === IPV6_RECVERR)) msg.error = parseExtendedError(c.data);
    else if (c.level === SOL_SOCKET && c.type === SCM_TIMESTAMPNS) msg.rxTimeMs = parseTimespecMs(c.data);
  }
  const dest = decodeSockaddr(name, 0, nameLength);
  if (dest) msg.probePort = dest.port;
  return msg;
}

/**
 * A reusable `struct msghdr` with its name, iovec, payload and control buffers, for recvmsg. All of
 * them are views of one ArrayBuffer: small typed arrays that own their memory can be moved by the
 * garbage collector after `ptr()` was taken (measured: the kernel then wrote where JS no longer looked).
 */
export class RecvBuffers {
  private readonly memory = new ArrayBuffer(MSGHDR_BYTES + 8 + 16 + 32 + 64 + CONTROL_BYTES);
  readonly header = new Uint8Array(this.memory, 0, MSGHDR_BYTES);
  private readonly iov = new BigUint64Array(this.memory, 64, 2);
  readonly name = new Uint8Array(this.memory, 80, SOCKADDR_IN6_BYTES); // room for either family
  readonly payload = new Uint8Array(this.memory, 112, 64); // the quoted probe; its content is not needed
  readonly control = new Uint8Array(this.memory, 176, CONTROL_BYTES);
  private readonly view = new DataView(this.memory, 0, MSGHDR_BYTES);

  constructor() {
    this.iov[0] = BigInt(ptr(this.payload));
    this.iov[1] = BigInt(this.payload.length);
    this.view.setBigUint64(0, BigInt(ptr(this.name)), true);
    this.view.setBigUint64(16, BigInt(ptr(this.iov)), true);
    this.view.setBigUint64(24, 1n, true);
    this.view.setBigUint64(32, BigInt(ptr(this.control)), true);
  }

  /** Resets the lengths recvmsg overwrites; call before every read. */
  reset(): Uint8Array {
    this.view.setUint32(8, SOCKADDR_IN6_BYTES, true);
    this.view.setBigUint64(40, BigInt(CONTROL_BYTES), true);
    this.view.setInt32(48, 0, true);
    return this.header;
  }

  get nameLength(): number {
    return this.view.getUint32(8, true);
  }
  get controlLength(): number {
    return Number(this.view.getBigUint64(40, true));
  }

  parse(): ErrorMessage {
    return parseErrorMessage(this.control, this.controlLength, this.name, this.nameLength);
  }
}
