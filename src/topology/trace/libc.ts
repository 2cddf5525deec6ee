/**
 * The few libc calls the traceroute needs, through `bun:ffi`. Bun's own UDP sockets can set a TTL but
 * never show ICMP errors, and `raw-socket` does not load in Bun (README, dependency notes), so the tracer
 * drives plain unprivileged UDP sockets itself: IP_RECVERR queues each ICMP error on the socket that sent
 * the probe, and recvmsg(MSG_ERRQUEUE) reads it with the kernel's receive timestamp.
 *
 * Loaded lazily, once: a missing library or symbol becomes an UNSUPPORTED error with a fix.
 */
import { FFIType } from "bun:ffi";
import { lazyLibc, type Symbols } from "../../util/libc.ts";

export { EAGAIN, EINTR, MSG_DONTWAIT, POLLIN, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET, errno } from "../../util/libc.ts";

// Linux ABI numbers (x86-64 and arm64 share all of these; see socket(7), ip(7), asm-generic/socket.h).
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_DGRAM = 2;
export const SOL_IP = 0;
export const IP_TTL = 2;
export const IP_RECVERR = 11;
export const SOL_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16; // the hop limit of unicast packets sent on the socket (ipv6(7))
export const IPV6_RECVERR = 25;
export const SO_TIMESTAMPNS = 35; // SO_TIMESTAMPNS_OLD: struct timespec with 64-bit fields on 64-bit hosts
export const SCM_TIMESTAMPNS = SO_TIMESTAMPNS;
export const MSG_ERRQUEUE = 0x2000;
export const POLLERR = 0x8;
export const CLOCK_REALTIME = 0;

export const EMFILE = 24;
export const ENFILE = 23;
export const ENETUNREACH = 101;
export const EHOSTUNREACH = 113;
export const EPERM = 1;
export const EACCES = 13;
export const EAFNOSUPPORT = 97;

export const SYMBOLS = {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
  recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

export type Libc = Symbols<typeof SYMBOLS>;

export const TRACE_USER = "the traceroute";
export const TRACE_FIX =
  "Run icon on Linux with glibc (libc.so.6 providing socket, setsockopt, sendto, recvmsg, poll, clock_gettime).";

export const libc = lazyLibc(SYMBOLS, TRACE_USER, TRACE_FIX);

const ts = new BigInt64Array(2);
/** CLOCK_REALTIME in milliseconds with nanosecond resolution: the clock kernel rx timestamps use. */
export function realtimeMs(c: Libc): number {
  c.clock_gettime(CLOCK_REALTIME, ts);
  return Number(ts[0]!) * 1000 + Number(ts[1]!) / 1e6;
}
