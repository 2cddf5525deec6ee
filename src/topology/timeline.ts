/**
 * Where a `closest` spent its time: the trace's hops as they answered, each router lookup (from this
 * node's store, the cache, or the DHT, with the DHT's hops and messages), each measure() of a node, and
 * the ranking, in ms since the work began. `icon closest --json` shows it and the node logs it at debug,
 * so an operator can see what holds up a first contact (the finder is on the migration's critical path).
 */
import type { DhtEvent } from "../dht/events.ts";
import type { Hop } from "./trace/types.ts";

/** One router lookup: the DHT's figures when it asked other nodes. */
export interface LookupSpan {
  routerId: string;
  startMs: number;
  endMs: number;
  found: number;
  source: "local" | "cache" | "dht";
  /** Hops, messages and nodes queried of the DHT lookup (source dht). */
  dht?: { hops: number; messages: number; queried: number };
}

export interface ClosestTimeline {
  /** Unix ms when the work began: a prefetch's start when the answer joined the prefetch's work. */
  startedAt: number;
  /** What began it: a prefetch (a client's SYN, or an ICON's urgent harvest) or a closest request. */
  by: "prefetch" | "request";
  /** The trace's end and its hops as they answered; null when a cached trace (or one in flight) served. */
  trace: { endMs: number; hops: { ttl: number; address: string; atMs: number }[] } | null;
  lookups: LookupSpan[];
  /** This node's RTT to each announcing node: from the DHT's contacts at once, or by a ping. */
  measures: { nodeId: string; startMs: number; endMs: number; rttMs: number | null }[];
  rankedMs: number;
}

/** The figures of a DHT lookup's end event, if it is one. */
export function lookupFigures(e: DhtEvent): LookupSpan["dht"] | undefined {
  return e.type === "lookup-done" ? { hops: e.hops, messages: e.messages, queried: e.queried } : undefined;
}

/** Records one closest's timeline as its steps happen. */
export class TimelineRecorder {
  private readonly t0 = performance.now();
  readonly timeline: ClosestTimeline;

  constructor(by: ClosestTimeline["by"]) {
    this.timeline = { startedAt: Date.now(), by, trace: null, lookups: [], measures: [], rankedMs: 0 };
  }

  ms(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  private hops: { ttl: number; address: string; atMs: number }[] = [];

  hop(h: Hop): void {
    if (h.address !== undefined) this.hops.push({ ttl: h.ttl, address: h.address, atMs: this.ms() });
  }

  traced(ran: boolean): void {
    if (ran) this.timeline.trace = { endMs: this.ms(), hops: this.hops };
  }

  /** Times a lookup; `source` as the cache saw it before asking. */
  async lookup<T extends unknown[]>(routerId: string, source: LookupSpan["source"], p: Promise<T>, figures: () => LookupSpan["dht"]): Promise<T> {
    const startMs = this.ms();
    const found = await p;
    const dht = source === "dht" ? figures() : undefined;
    this.timeline.lookups.push({ routerId, startMs, endMs: this.ms(), found: found.length, source, ...(dht ? { dht } : {}) });
    return found;
  }

  async measure(nodeId: string, p: Promise<number | undefined>): Promise<number | undefined> {
    const startMs = this.ms();
    const rtt = await p;
    this.timeline.measures.push({ nodeId, startMs, endMs: this.ms(), rttMs: rtt ?? null });
    return rtt;
  }

  ranked(): ClosestTimeline {
    this.timeline.rankedMs = this.ms();
    return this.timeline;
  }
}
