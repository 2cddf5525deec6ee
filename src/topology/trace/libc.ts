/**
 * The few libc calls the traceroute needs, through `bun:ffi`. Bun's own UDP sockets can set a TTL but
 * never show ICMP errors, and `raw-socket` does not load in Bun (README, dependency notes), so the tracer
 * drives plain unprivileged UDP sockets itself: IP_RECVERR queues each ICMP error on the socket that sent
 * the probe, and recvmsg(MSG_ERRQUEUE) reads it with the kernel's receive timestamp.
 *
 * Loaded lazily, once: a missing library or symbol becomes an UNSUPPORTED error with a fix.
 */
import { dlopen, FFIType, read, type FFIFunction, type Pointer } from "bun:ffi";
import { IconError } from "../../errors.ts";

// Linux ABI numbers (x86-64 and arm64 share all of these; see socket(7), ip(7), asm-generic/socket.h).
export const AF_INET = 2;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const IP_TTL = 2;
export const IP_RECVERR = 11;
export const SO_TIMESTAMPNS = 35; // SO_TIMESTAMPNS_OLD: struct timespec with 64-bit fields on 64-bit hosts
export const SCM_TIMESTAMPNS = SO_TIMESTAMPNS;
export const MSG_DONTWAIT = 0x40;
export const MSG_ERRQUEUE = 0x2000;
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const CLOCK_REALTIME = 0;

export const EAGAIN = 11;
export const EINTR = 4;
export const EMFILE = 24;
export const ENFILE = 23;
export const ENETUNREACH = 101;
export const EHOSTUNREACH = 113;
export const EPERM = 1;
export const EACCES = 13;

const SYMBOLS = {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
  recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

export type Libc = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

let loaded: Libc | undefined;
let failure: IconError | undefined;

/** Candidate names of the C library, most specific first. */
const LIBRARIES = process.platform === "linux" ? ["libc.so.6", "libc.so"] : [];

export function libc(): Libc {
  if (loaded) return loaded;
  if (failure) throw failure;
  try {
    loaded = openLibc(LIBRARIES);
    return loaded;
  } catch (e) {
    failure = e as IconError;
    throw failure;
  }
}

/**
 * Opens the first library of `names` that has every symbol; an UNSUPPORTED error names what failed.
 * `symbols` is a parameter only so a test can ask for one that no libc has.
 */
export function openLibc(names: string[], symbols: Record<string, FFIFunction> = SYMBOLS): Libc {
  if (process.platform !== "linux")
    throw new IconError("UNSUPPORTED", `the traceroute needs Linux (IP_RECVERR error queues); this is ${process.platform}`,
      "Run icon on Linux (any distribution with glibc).");
  const errors: string[] = [];
  for (const name of names) {
    try {
      return dlopen(name, symbols).symbols as unknown as Libc;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new IconError("UNSUPPORTED", `cannot load the C library functions the traceroute needs (${errors.join("; ")})`,
    "Run icon on Linux with glibc (libc.so.6 providing socket, setsockopt, sendto, recvmsg, poll, clock_gettime).");
}

/** errno of the last failed call on this thread. */
export function errno(c: Libc): number {
  return read.i32(c.__errno_location() as Pointer, 0);
}

const ts = new BigInt64Array(2);
/** CLOCK_REALTIME in milliseconds with nanosecond resolution: the clock kernel rx timestamps use. */
export function realtimeMs(c: Libc): number {
  c.clock_gettime(CLOCK_REALTIME, ts);
  return Number(ts[0]!) * 1000 + Number(ts[1]!) / 1e6;
}
