/**
 * One probe socket: a non-blocking unprivileged UDP socket with a fixed IP TTL, IP_RECVERR (ICMP errors
 * for its probes are queued on it; for IPv6 the same with IPV6_UNICAST_HOPS and IPV6_RECVERR, ICMPv6
 * errors) and SO_TIMESTAMPNS (each queued error carries its kernel arrival
 * time, so the RTT does not depend on when JavaScript gets round to reading it). DESIGN.md
 * "Traceroute facts" has the measured recipe; thesis 3.1.1 the reason for one socket per TTL.
 */
import { IconError } from "../../errors.ts";
import {
  AF_INET, AF_INET6, EACCES, EAFNOSUPPORT, EHOSTUNREACH, EINTR, EMFILE, ENETUNREACH, ENFILE, EPERM, IP_RECVERR, IP_TTL, IPV6_RECVERR,
  IPV6_UNICAST_HOPS, MSG_DONTWAIT, MSG_ERRQUEUE, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOL_IP, SOL_IPV6, SOL_SOCKET,
  SO_TIMESTAMPNS, errno, realtimeMs, type Libc,
} from "./libc.ts";
import { RecvBuffers, type ErrorMessage } from "./wire.ts";

const one = new Int32Array([1]);
/** The probe's UDP payload; routers quote only the headers, so its content does not matter. */
const PAYLOAD = new TextEncoder().encode("icon-trace");

export type SendResult = { ok: true; sentAtMs: number } | { ok: false; errno: number };

export class ProbeSocket {
  private closed = false;
  private constructor(
    private readonly c: Libc,
    readonly fd: number,
    readonly ttl: number,
  ) {}

  static open(c: Libc, ttl: number, family: 4 | 6 = 4): ProbeSocket {
    const fd = c.socket(family === 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw socketError(errno(c), family);
    const s = new ProbeSocket(c, fd, ttl);
    const ttlValue = new Int32Array([ttl]);
    const [level, hops, recverr] = family === 4 ? [SOL_IP, IP_TTL, IP_RECVERR] : [SOL_IPV6, IPV6_UNICAST_HOPS, IPV6_RECVERR];
    if (c.setsockopt(fd, level, hops, ttlValue, 4) < 0 || c.setsockopt(fd, level, recverr, one, 4) < 0
      || c.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, one, 4) < 0) {
      const e = errno(c);
      s.close();
      const names = family === 4 ? "IP_TTL, IP_RECVERR" : "IPV6_UNICAST_HOPS, IPV6_RECVERR";
      throw new IconError("UNSUPPORTED", `setsockopt on a UDP socket failed (errno ${e})`,
        `The kernel must support ${names} and SO_TIMESTAMPNS on UDP sockets (any Linux since 2.6.22).`);
    }
    return s;
  }

  /** Sends one probe to a sockaddr (wire.ts); the time is taken just before the send so the RTT never comes out short. */
  send(sockaddr: Uint8Array): SendResult {
    const sentAtMs = realtimeMs(this.c);
    const n = Number(this.c.sendto(this.fd, PAYLOAD, PAYLOAD.length, 0, sockaddr, sockaddr.length));
    return n < 0 ? { ok: false, errno: errno(this.c) } : { ok: true, sentAtMs };
  }

  /** Reads every error queued on this socket without blocking. */
  drain(buf: RecvBuffers, into: ErrorMessage[]): void {
    for (;;) {
      const n = Number(this.c.recvmsg(this.fd, buf.reset(), MSG_ERRQUEUE | MSG_DONTWAIT));
      if (n < 0) {
        const e = errno(this.c);
        if (e === EINTR) continue;
        return; // EAGAIN: the queue is empty
      }
      into.push(buf.parse());
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.c.close(this.fd);
  }
}

export function socketError(e: number, family: 4 | 6 = 4): IconError {
  const af = family === 4 ? "AF_INET" : "AF_INET6";
  if (e === EMFILE || e === ENFILE)
    return new IconError("FAILED", "out of file descriptors for probe sockets", "Raise the open-files limit (ulimit -n) or lower traceConcurrency / --max-ttl.");
  if (e === EPERM || e === EACCES)
    return new IconError("PERMISSION", `opening a UDP socket was refused (errno ${e})`, `A seccomp or LSM policy forbids UDP sockets; allow socket(${af}, SOCK_DGRAM).`);
  if (family === 6 && e === EAFNOSUPPORT) // booted with ipv6.disable=1
    return new IconError("UNSUPPORTED", "this host has no IPv6 (socket(AF_INET6) is not supported)", "Boot without ipv6.disable=1, or trace IPv4 addresses only.");
  return new IconError("FAILED", `socket(${af}, SOCK_DGRAM) failed (errno ${e})`);
}

/** What a failed send of the first probe means for the whole trace (later ones just count as lost). */
export function firstSendError(e: number, destination: string): IconError {
  if (e === ENETUNREACH || e === EHOSTUNREACH)
    return new IconError("UNREACHABLE", `no route to ${destination}`, `Check this host's routing table (ip route get ${destination}).`);
  if (e === EPERM || e === EACCES)
    return new IconError("PERMISSION", `sending a UDP probe to ${destination} was refused (errno ${e})`, "A firewall rule (OUTPUT chain) rejects UDP to ports 33434+; allow it.");
  return new IconError("FAILED", `sending the first probe to ${destination} failed (errno ${e})`, "Retry; if it persists, check the host's network configuration.");
}
