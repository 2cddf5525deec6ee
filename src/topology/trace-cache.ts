/**
 * Client traces cached per client prefix (/24 by default): clients of one network share the path up
 * to their last router, so one trace serves them all for traceCacheSec. A trace in flight is shared
 * too, so a client's trace started at accept is the one `closest` waits for (DESIGN.md "The migration
 * sequence": everything hides behind the client's round trips).
 */
import { clientKeyOf } from "./router-id.ts";
import type { TraceResult } from "./trace/types.ts";

/** Prefixes remembered at most; the oldest entry goes first. */
export const MAX_CACHED_PREFIXES = 4096;

interface Entry {
  trace?: TraceResult;
  at: number;
  pending?: Promise<TraceResult>;
}

export class TraceCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: { clientPrefix: number; ttlMs: number; now?: () => number; max?: number }) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  keyOf(ip: string): string {
    return clientKeyOf(ip, this.opts.clientPrefix);
  }

  /** A finished trace of the client's prefix that is still fresh. */
  fresh(ip: string): TraceResult | undefined {
    const e = this.entries.get(this.keyOf(ip));
    return e?.trace && this.now() - e.at < this.opts.ttlMs ? e.trace : undefined;
  }

  /** The last finished trace of the client's prefix, however old (a prior for the next trace). */
  previous(ip: string): TraceResult | undefined {
    return this.entries.get(this.keyOf(ip))?.trace;
  }

  /** The trace in flight for the client's prefix, if any. */
  pending(ip: string): Promise<TraceResult> | undefined {
    return this.entries.get(this.keyOf(ip))?.pending;
  }

  /**
   * The fresh trace, or the one in flight, or a new one from `run` (always, with `force`). `cached`
   * says whether no new trace had to start.
   */
  get(ip: string, run: () => Promise<TraceResult>, force = false): { trace: Promise<TraceResult>; cached: boolean; started: boolean } {
    const hit = force ? undefined : this.fresh(ip);
    if (hit) return { trace: Promise.resolve(hit), cached: true, started: false };
    const inFlight = force ? undefined : this.pending(ip);
    if (inFlight) return { trace: inFlight, cached: false, started: false };
    const key = this.keyOf(ip);
    const pending = run().then(
      (trace) => {
        this.put(key, { trace, at: this.now() });
        return trace;
      },
      (e) => {
        const cur = this.entries.get(key);
        if (cur?.pending === pending) {
          if (cur.trace) delete cur.pending;
          else this.entries.delete(key);
        }
        throw e;
      },
    );
    const prior = this.entries.get(key);
    this.put(key, { ...(prior?.trace ? { trace: prior.trace, at: prior.at } : { at: 0 }), pending });
    return { trace: pending, cached: false, started: true };
  }

  private put(key: string, e: Entry): void {
    this.entries.delete(key); // re-insert: Map order is the eviction order
    this.entries.set(key, e);
    const max = this.opts.max ?? MAX_CACHED_PREFIXES;
    while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Number of prefixes with a finished trace. */
  get size(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.trace) n++;
    return n;
  }

  /** Forgets every trace (one in flight is still cached when it ends); returns how many were finished. */
  clear(): number {
    const n = this.size;
    this.entries.clear();
    return n;
  }

  /** The cached traces, newest first, for `icon topology`. */
  traces(): { prefix: string; trace: TraceResult; at: number }[] {
    return [...this.entries].filter(([, e]) => e.trace).map(([prefix, e]) => ({ prefix, trace: e.trace!, at: e.at })).reverse();
  }
}
