/**
 * One NETLINK_NETFILTER socket inside one network namespace, bound to that namespace's queues.
 * setns() changes only the calling thread, so the socket is opened inside the namespace and the thread
 * goes straight back; the socket stays in the namespace it was made in (a kernel queue belongs to one).
 */
import { IconError } from "../../errors.ts";
import {
  AF_NETLINK, CLONE_NEWNET, EAGAIN, EINTR, MSG_DONTWAIT, NETLINK_NETFILTER, NETLINK_NO_ENOBUFS, O_CLOEXEC, O_RDONLY,
  POLLIN, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_NETLINK, SOL_SOCKET, SO_RCVBUFFORCE, cstr, errno, type Libc,
} from "./libc.ts";
import { configMessages, parseMessages, type Parsed } from "./wire.ts";

/** Held packets per queue the kernel accepts before it drops (the default, 1024, is small for bulk). */
export const QUEUE_MAXLEN = 16384;
const RCVBUF = 8 << 20;

/** Opens a netlink socket inside the namespace at `nsPath` (e.g. /run/netns/icon-r1). */
export function openInNamespace(c: Libc, nsPath: string): number {
  const home = c.open(cstr("/proc/thread-self/ns/net"), O_RDONLY | O_CLOEXEC);
  if (home < 0) throw new IconError("FAILED", `cannot open this thread's network namespace (errno ${errno(c)})`, "Run as root on Linux.");
  const ns = c.open(cstr(nsPath), O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    c.close(home);
    throw new IconError("NOT_FOUND", `network namespace ${nsPath} is missing (errno ${errno(c)})`, "Run `icon testbed up` again; it re-creates the testbed.");
  }
  try {
    if (c.setns(ns, CLONE_NEWNET) < 0) throw new IconError("PERMISSION", `setns into ${nsPath} failed (errno ${errno(c)})`, "Run as root.");
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) throw new IconError("UNSUPPORTED", `netlink socket failed in ${nsPath} (errno ${errno(c)})`, "The kernel needs nfnetlink_queue (CONFIG_NETFILTER_NETLINK_QUEUE).");
    return fd;
  } finally {
    const back = c.setns(home, CLONE_NEWNET);
    c.close(ns);
    c.close(home);
    if (back < 0) throw new IconError("INTERNAL", `setns back to the home namespace failed (errno ${errno(c)})`);
  }
}

/**
 * Binds `queues` on `fd` and waits for the kernel's acks. Packets that arrive meanwhile go to
 * `onPacket`, like in the main loop.
 */
export function bindQueues(c: Libc, fd: number, queues: number[], onPacket: (queue: number, id: number) => void, where: string): void {
  const addr = new Uint8Array(12); // sockaddr_nl: family, pad, pid 0 (kernel assigns), groups 0
  new DataView(addr.buffer).setUint16(0, AF_NETLINK, true);
  if (c.bind(fd, addr, 12) < 0) throw new IconError("FAILED", `bind of the netlink socket in ${where} failed (errno ${errno(c)})`);
  // Ignore failures: a larger buffer only makes overload drops rarer.
  c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, new Int32Array([RCVBUF]), 4);
  c.setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, new Int32Array([1]), 4);
  const buf = new Uint8Array(8192);
  const dv = new DataView(buf.buffer);
  const pfd = new Int32Array([fd, POLLIN]);
  const tmo = new Int32Array([0, 0, 100_000_000, 0]);
  let seq = 1;
  for (const q of queues) {
    const msgs = configMessages(q, QUEUE_MAXLEN, seq);
    for (const m of msgs) if (Number(c.send(fd, m, m.length, 0)) < 0) throw new IconError("FAILED", `sending queue config to ${where} failed (errno ${errno(c)})`);
    const want = new Set(msgs.map((_, i) => seq + i));
    seq += msgs.length;
    const deadline = Date.now() + 3000;
    while (want.size) {
      if (Date.now() > deadline) throw new IconError("TIMEOUT", `the kernel did not acknowledge queue ${q} in ${where}`);
      c.ppoll(pfd, 1, tmo, null);
      for (;;) {
        const n = Number(c.recv(fd, buf, buf.length, MSG_DONTWAIT));
        if (n < 0) {
          const e = errno(c);
          if (e === EINTR) continue;
          if (e === EAGAIN) break;
          throw new IconError("FAILED", `recv on the netlink socket in ${where} failed (errno ${e})`);
        }
        const others: Parsed[] = [];
        parseMessages(dv, n, onPacket, others);
        for (const o of others) {
          if (o.kind !== "error") continue;
          if (o.errno !== 0)
            throw new IconError(o.errno === 16 ? "CONFLICT" : "FAILED",
              `binding NFQUEUE ${q} in ${where} failed (errno ${o.errno}${o.errno === 16 ? ": another process holds the queue" : ""})`,
              "Run `icon testbed down` then `up`; a stale delay process may hold the queue.");
          want.delete(o.seq);
        }
      }
    }
  }
}
