/**
 * The libc calls the delay process needs, through `bun:ffi`: a netlink socket per namespace (setns),
 * non-blocking recv/send, ppoll with a nanosecond timeout, and SCHED_FIFO. No libnetfilter_queue: the
 * nfnetlink_queue protocol is spoken directly (./wire.ts), so the single binary carries everything.
 */
import { FFIType } from "bun:ffi";
import { lazyLibc, type Symbols } from "../../util/libc.ts";

export { EAGAIN, EINTR, MSG_DONTWAIT, POLLIN, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET, errno } from "../../util/libc.ts";

// Linux ABI numbers, identical on x86-64 and arm64 (socket(7), netlink(7), sched(7), setns(2)).
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const NETLINK_NETFILTER = 12;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_NO_ENOBUFS = 5;
export const MSG_PEEK = 0x2;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const CLONE_NEWNET = 0x40000000;
export const SCHED_FIFO = 1;
export const PR_SET_TIMERSLACK = 29;

const SYMBOLS = {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  // ssize_t read as i32 (our datagrams are small): an i64 return would allocate a BigInt per call,
  // and garbage means GC pauses in the middle of a delay.
  send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  recvmmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  open: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  ppoll: { args: [FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

export type Libc = Symbols<typeof SYMBOLS>;

export const libc = lazyLibc(SYMBOLS, "the delay process",
  "Run the testbed on Linux with glibc (libc.so.6 providing setns, recvmmsg, ppoll, sched_setscheduler).");

export function cstr(s: string): Buffer {
  return Buffer.from(s + "\0");
}
