/**
 * The real tracer: an unprivileged parallel UDP traceroute (thesis 3.1.1; DESIGN.md "Traceroute facts").
 * One socket per TTL, all probes sent back to back, ICMP errors read from each socket's error queue with
 * their kernel timestamps, and the end decided by TraceState. Works as any user, needs no raw socket.
 * IPv6 destinations get AF_INET6 sockets with the same recipe (hop limit, IPV6_RECVERR, ICMPv6).
 */
import { IconError } from "../../errors.ts";
import { formatIPv6, requireIP } from "../../util/ipv6.ts";
import { classify } from "./classify.ts";
import { libc, realtimeMs, type Libc } from "./libc.ts";
import { firstSendError, ProbeSocket } from "./probe-socket.ts";
import { hopOf, round3, TraceState } from "./trace-state.ts";
import { BASE_PORT, DEFAULT_CAP_MS, DEFAULT_MAX_TTL, MAX_TTL_LIMIT, RETRY_PORT_OFFSET, type TraceOptions, type TraceResult, type Tracer } from "./types.ts";
import { PollSet, waitReady } from "./waiter.ts";
import { encodeSockaddrIn, encodeSockaddrIn6, RecvBuffers, type ErrorMessage } from "./wire.ts";

// One set of receive buffers serves every trace: reads are synchronous and JavaScript is single-threaded.
let buffers: RecvBuffers | undefined;

export class UdpTracer implements Tracer {
  async trace(destination: string, options: TraceOptions = {}): Promise<TraceResult> {
    const ip = requireIP(destination, "destination");
    // Answers name IPv6 offenders canonically; the destination is compared and reported the same way.
    if (ip.family === 6) destination = formatIPv6(ip.bytes);
    const sockaddr = ip.family === 4 ? (port: number) => encodeSockaddrIn(ip.n, port) : (port: number) => encodeSockaddrIn6(ip.bytes, port);
    const maxTtl = options.maxTtl ?? DEFAULT_MAX_TTL;
    if (!Number.isInteger(maxTtl) || maxTtl < 1 || maxTtl > MAX_TTL_LIMIT)
      throw new IconError("USAGE", `max TTL ${maxTtl} is not 1..${MAX_TTL_LIMIT}`, `Give a whole number of hops from 1 to ${MAX_TTL_LIMIT}.`);
    const c = libc();
    buffers ??= new RecvBuffers();
    const sockets: ProbeSocket[] = [];
    try {
      for (let ttl = 1; ttl <= maxTtl; ttl++) sockets.push(ProbeSocket.open(c, ttl, ip.family));
      return await this.run(c, buffers, sockets, sockaddr, destination, options);
    } finally {
      for (const s of sockets) s.close();
    }
  }

  private async run(c: Libc, buf: RecvBuffers, sockets: ProbeSocket[], sockaddr: (port: number) => Uint8Array, destination: string, options: TraceOptions): Promise<TraceResult> {
    const state = new TraceState(sockets.length, options.capMs ?? DEFAULT_CAP_MS, options.retries ?? 1, options.prior);
    const startedAt = Date.now();
    for (const s of sockets) {
      const r = s.send(sockaddr(BASE_PORT + s.ttl - 1));
      if (r.ok) state.sent(s.ttl, r.sentAtMs);
      else if (s.ttl === 1) throw firstSendError(r.errno, destination);
    }
    const set = new PollSet(sockets.map((s) => s.fd));
    const messages: ErrorMessage[] = [];
    let ready = sockets.map((_, i) => i);
    let ended: TraceResult["ended"];
    for (;;) {
      for (const i of ready) sockets[i]!.drain(buf, messages);
      const readAt = realtimeMs(c);
      for (const m of messages.splice(0)) this.record(state, destination, m, readAt, options);
      const step = state.step(realtimeMs(c));
      if (step.done) {
        ended = step.done;
        break;
      }
      if (options.signal?.aborted) {
        ended = "aborted";
        break;
      }
      for (const ttl of step.retry) {
        const r = sockets[ttl - 1]!.send(sockaddr(BASE_PORT + RETRY_PORT_OFFSET + ttl - 1));
        if (r.ok) state.sent(ttl, r.sentAtMs, true);
      }
      ready = await waitReady(c, set, step.wakeAt, options.signal);
    }
    const elapsedMs = round3(realtimeMs(c) - state.start);
    const hops = state.hops();
    return { destination, reached: hops.at(-1)?.kind === "destination", elapsedMs, hops, ended, startedAt };
  }

  private record(state: TraceState, destination: string, m: ErrorMessage, readAt: number, options: TraceOptions): void {
    const what = classify(m.error, destination);
    if (!what || m.probePort === undefined) return;
    const retried = m.probePort >= BASE_PORT + RETRY_PORT_OFFSET;
    const ttl = m.probePort - BASE_PORT - (retried ? RETRY_PORT_OFFSET : 0) + 1;
    const sentAt = state.sendTime(ttl, retried);
    if (sentAt === undefined) return; // not one of this trace's probes
    // Without SO_TIMESTAMPNS data (never seen on Linux) the read time is an upper bound.
    const rttMs = Math.max(0, (m.rxTimeMs ?? readAt) - sentAt);
    const answer = { ...what, rttMs, retried };
    if (!state.answered(ttl, answer)) return;
    const dest = state.destinationTtl();
    if (dest === undefined || ttl <= dest) options.onHop?.(hopOf(ttl, answer));
  }
}
