/**
 * The tracer seam: what a trace returns and what the topology map needs from a tracer. The real one is
 * UdpTracer (parallel UDP probes through libc); tests of the map can use it in namespaces or on loopback,
 * or hand in a scripted tracer.
 */

/** router: ICMP time exceeded. destination: the destination (or a port unreachable) answered.
 *  unreachable: a router said the destination cannot be reached. silent: no answer to either probe. */
export type HopKind = "router" | "destination" | "unreachable" | "silent";

export interface Hop {
  ttl: number;
  /** Who answered; undefined for a silent hop. */
  address?: string;
  /** Round trip from the probe's send to the kernel's receipt of the answer, in ms. */
  rttMs?: number;
  kind: HopKind;
  /** True when the answer came to the retried probe. */
  retried?: boolean;
}

export interface TraceResult {
  destination: string;
  /** The destination answered. */
  reached: boolean;
  /** From the first probe to the end of the trace, in ms. */
  elapsedMs: number;
  /** Hops from TTL 1 to the destination (or to the farthest hop that answered). */
  hops: Hop[];
  /** Why it ended: complete (every hop to the destination answered), timeout (waited the derived time),
   *  cap (waited the longest allowed), aborted. */
  ended: "complete" | "timeout" | "cap" | "aborted";
  /** When the trace started, ms since the epoch. */
  startedAt: number;
}

export interface TraceOptions {
  /** Largest TTL probed (default 30). */
  maxTtl?: number;
  /** Longest a trace may take in ms, whatever it derives (default 1500, the thesis's fixed timeout). */
  capMs?: number;
  /** Probes retried once when overdue and there is time (default 1). */
  retries?: number;
  /** What an earlier trace of this destination's network saw; lets a silent destination end sooner. */
  prior?: Prior;
  /** Called as each hop answers, for progress output. */
  onHop?: (hop: Hop) => void;
  signal?: AbortSignal;
}

/** The shape of an earlier trace of the same network (see priorOf). */
export interface Prior {
  /** The farthest TTL that answered, and its RTT. */
  lastTtl: number;
  lastRttMs: number;
  /** Whether the destination itself answered. */
  reached: boolean;
}

export function priorOf(trace: TraceResult): Prior | undefined {
  for (let i = trace.hops.length - 1; i >= 0; i--) {
    const h = trace.hops[i]!;
    if (h.rttMs !== undefined) return { lastTtl: h.ttl, lastRttMs: h.rttMs, reached: trace.reached };
  }
  return undefined;
}

export interface Tracer {
  trace(destination: string, options?: TraceOptions): Promise<TraceResult>;
}

export const DEFAULT_MAX_TTL = 30;
/** The thesis waited a fixed 1500 ms for silent destinations (3.1.1, footnote); it is now only the cap. */
export const DEFAULT_CAP_MS = 1500;
/** IANA's traceroute port (thesis 3.1.1): probe for TTL t goes to BASE_PORT + t - 1. */
export const BASE_PORT = 33434;
/** The largest TTL a trace may probe (config maxTtl and `icon trace --max-ttl` stop there too). */
export const MAX_TTL_LIMIT = 64;
/** Retried probes go to ports above every first probe's port, so a late first answer is never
 *  mistaken for the retry's (their RTTs differ). */
export const RETRY_PORT_OFFSET = MAX_TTL_LIMIT;
