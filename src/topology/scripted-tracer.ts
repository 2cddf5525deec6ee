/**
 * A Tracer for tests of the map, finder and announcer: it plays back scripted paths, calling onHop at
 * each hop's RTT (times `timeScale`) as the real tracer would. Never used by the product.
 */
import type { Hop, TraceOptions, TraceResult, Tracer } from "./trace/types.ts";

export class ScriptedTracer implements Tracer {
  readonly paths = new Map<string, Hop[]>();
  readonly calls: string[] = [];
  /** Real milliseconds per scripted millisecond (0: answer at once). */
  timeScale = 0;
  /** Traces in flight now, and the most ever at once. */
  running = 0;
  maxRunning = 0;

  /** Scripts the path to `destination`: [address, rttMs] per TTL, undefined for a silent hop. */
  route(destination: string, hops: ([string, number] | undefined)[], reached = true): this {
    this.paths.set(destination, hops.map((h, i) => {
      if (!h) return { ttl: i + 1, kind: "silent" };
      const last = i === hops.length - 1 && reached;
      return { ttl: i + 1, address: h[0], rttMs: h[1], kind: last ? "destination" : "router" };
    }));
    return this;
  }

  async trace(destination: string, options: TraceOptions = {}): Promise<TraceResult> {
    this.calls.push(destination);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const hops = this.paths.get(destination) ?? [];
      const startedAt = Date.now();
      const t0 = performance.now();
      for (const h of [...hops].sort((a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity))) {
        if (h.rttMs === undefined) continue;
        const wait = h.rttMs * this.timeScale - (performance.now() - t0);
        if (wait > 0) await Bun.sleep(wait);
        options.onHop?.(h);
      }
      if (this.timeScale === 0) await Promise.resolve();
      const reached = hops.at(-1)?.kind === "destination";
      return { destination, reached, elapsedMs: performance.now() - t0, hops, ended: reached ? "complete" : "timeout", startedAt };
    } finally {
      this.running--;
    }
  }
}
