/**
 * A netlink socket subscribed to the kernel's new-connection events (ctnetlink, NFNLGRP_CONNTRACK_NEW),
 * opened through `bun:ffi` as the tracer's sockets are (topology/trace/libc.ts). Joining the group needs
 * CAP_NET_ADMIN, a kernel with CONFIG_NF_CT_NETLINK and CONFIG_NF_CONNTRACK_EVENTS, and conntrack at work
 * in this network namespace (any NAT or conntrack rule: the node's own engine DNATs its ICONs' ports).
 * The socket is non-blocking: Bun's event loop reads it (Bun.file(fd).stream() polls sockets), so no
 * thread waits on it.
 */
import { FFIType } from "bun:ffi";
import { IconError } from "../../errors.ts";
import { errno, lazyLibc, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET } from "../../util/libc.ts";
import { NFNLGRP_CONNTRACK_NEW } from "./wire.ts";

// Linux ABI numbers, identical on x86-64 and arm64 (netlink(7), socket(7), errno(3)).
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_NETFILTER = 12;
const SOL_NETLINK = 270;
const NETLINK_NO_ENOBUFS = 5;
const SO_RCVBUF = 8;
const EPERM = 1;
const EACCES = 13;
const EPROTONOSUPPORT = 93;
/** Room for bursts of events between two reads (the kernel doubles it); overruns are dropped quietly. */
const RCVBUF = 1 << 20;

const SYMBOLS = {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

const libc = lazyLibc(SYMBOLS, "the SYN watcher", "Run icon on Linux with glibc (libc.so.6 providing socket, bind, setsockopt).");

/** An open event socket: its datagrams one read at a time (undefined once closed), and close(). */
export interface EventSource {
  read(): Promise<Uint8Array | undefined>;
  close(): void;
}

/** Opens the socket and joins the new-connection group; a typed error says why it cannot. */
export function openConntrackEvents(): EventSource {
  const c = libc();
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) {
    const e = errno(c);
    throw e === EPROTONOSUPPORT
      ? new IconError("UNSUPPORTED", "this kernel has no nfnetlink (socket(AF_NETLINK, NETLINK_NETFILTER) is not supported)", "Load nfnetlink and nf_conntrack_netlink (modprobe nf_conntrack_netlink), or set synPrefetch false.")
      : new IconError("FAILED", `opening a netfilter netlink socket failed (errno ${e})`);
  }
  const addr = new Uint8Array(12); // sockaddr_nl: family, pad, pid 0 (the kernel assigns one), groups
  const dv = new DataView(addr.buffer);
  dv.setUint16(0, AF_NETLINK, true);
  dv.setUint32(8, 1 << (NFNLGRP_CONNTRACK_NEW - 1), true);
  if (c.bind(fd, addr, addr.length) < 0) {
    const e = errno(c);
    c.close(fd);
    throw e === EPERM || e === EACCES
      ? new IconError("PERMISSION", "listening to conntrack events needs CAP_NET_ADMIN", "Run the node as root (engine own does), or set synPrefetch false.")
      : new IconError("UNSUPPORTED", `joining the conntrack event group failed (errno ${e})`, "The kernel needs CONFIG_NF_CT_NETLINK and CONFIG_NF_CONNTRACK_EVENTS (modprobe nf_conntrack_netlink), or set synPrefetch false.");
  }
  // Best effort: a larger buffer makes overruns rarer, and an overrun must not end the stream (ENOBUFS).
  c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, new Int32Array([RCVBUF]), 4);
  c.setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, new Int32Array([1]), 4);
  let closed = false;
  const reader = Bun.file(fd).stream().getReader();
  return {
    async read() {
      const r = await reader.read();
      return r.done ? undefined : r.value;
    },
    close() {
      if (closed) return;
      closed = true;
      void reader.cancel().catch(() => {});
      c.close(fd); // the reader does not own the fd: cancelling it leaves the fd open
    },
  };
}
