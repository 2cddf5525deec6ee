/**
 * The decisions of one trace, without any I/O: which probes were sent when, which answered, which
 * are overdue and worth a retry, and when the trace is over. The driver (udp-tracer.ts) feeds it
 * sends, answers and the time; tests feed it a scripted clock.
 *
 * A trace ends as soon as the destination answered and every lower hop answered (thesis 3.1.1: "in
 * the same time as one round trip"); otherwise when the derived waits of timeouts.ts run out.
 */
import { overdueAfterMs, silentWaitMs } from "./timeouts.ts";
import type { Hop, HopKind, Prior, TraceResult } from "./types.ts";

export interface Answer {
  address: string;
  kind: Exclude<HopKind, "silent">;
  rttMs: number;
  retried: boolean;
}

interface Probe {
  sentAt?: number;
  retrySentAt?: number;
  answer?: Answer;
  gaveUp?: boolean;
}

export interface Step {
  /** Set when the trace is over. */
  done?: TraceResult["ended"];
  /** TTLs whose probe should be sent again now. */
  retry: number[];
  /** When to look again at the latest, even if nothing arrives (ms, same clock as the sends). */
  wakeAt: number;
}

export class TraceState {
  private readonly probes: Probe[];
  private startedAt?: number;

  constructor(
    readonly maxTtl: number,
    readonly capMs: number,
    readonly retries: number,
    /** An earlier trace of the same network: where its answers stopped. */
    readonly prior?: Prior,
  ) {
    this.probes = Array.from({ length: maxTtl + 1 }, () => ({}));
  }

  sent(ttl: number, at: number, retry = false): void {
    const p = this.probes[ttl]!;
    if (retry) p.retrySentAt = at;
    else p.sentAt = at;
    if (this.startedAt === undefined || at < this.startedAt) this.startedAt = at;
  }

  /** Records an answer; the first one for a TTL wins. Returns whether it was new. */
  answered(ttl: number, answer: Answer): boolean {
    const p = this.probes[ttl];
    if (!p || p.answer) return false;
    p.answer = answer;
    return true;
  }

  sendTime(ttl: number, retry: boolean): number | undefined {
    const p = this.probes[ttl];
    return retry ? p?.retrySentAt : p?.sentAt;
  }

  get start(): number {
    return this.startedAt ?? 0;
  }

  /** The lowest TTL the destination (or an unreachable) answered: nothing beyond it matters. */
  destinationTtl(): number | undefined {
    for (let t = 1; t <= this.maxTtl; t++) {
      const k = this.probes[t]!.answer?.kind;
      if (k === "destination" || k === "unreachable") return t;
    }
    return undefined;
  }

  private highestAnswered(limit: number): number {
    for (let t = limit; t >= 1; t--) if (this.probes[t]!.answer) return t;
    return 0;
  }

  /** RTT of the nearest hop above `ttl` that answered (up to `top`). */
  private rttAbove(ttl: number, top: number): number | undefined {
    for (let t = ttl + 1; t <= top; t++) {
      const a = this.probes[t]!.answer;
      if (a) return a.rttMs;
    }
    return undefined;
  }

  private farthestRtt(): number | undefined {
    let max: number | undefined;
    for (const p of this.probes) if (p.answer && (max === undefined || p.answer.rttMs > max)) max = p.answer.rttMs;
    return max;
  }

  step(now: number): Step {
    const capAt = this.start + this.capMs;
    const dest = this.destinationTtl();
    const top = dest ?? this.highestAnswered(this.maxTtl);
    const retry: number[] = [];
    let wakeAt = capAt;
    let pending = false;

    // Gaps: hops below one that answered.
    for (let t = 1; t < top; t++) {
      const p = this.probes[t]!;
      if (p.answer || p.gaveUp || p.sentAt === undefined) continue;
      const wait = overdueAfterMs(this.rttAbove(t, top)!);
      if (p.retrySentAt === undefined) {
        const overdueAt = p.sentAt + wait;
        if (now < overdueAt) {
          wakeAt = Math.min(wakeAt, overdueAt);
          pending = true;
        } else if (this.retries > 0 && now + wait <= capAt) {
          retry.push(t);
          wakeAt = Math.min(wakeAt, now + wait);
          pending = true;
        } else p.gaveUp = true;
      } else {
        const giveUpAt = p.retrySentAt + wait;
        if (now < giveUpAt) {
          wakeAt = Math.min(wakeAt, giveUpAt);
          pending = true;
        } else p.gaveUp = true;
      }
    }

    if (now >= capAt) return { done: "cap", retry: [], wakeAt: now };
    if (dest !== undefined) {
      if (pending) return { retry, wakeAt };
      return { done: this.anySilent(dest) ? "timeout" : "complete", retry, wakeAt: now };
    }
    const silentAt = this.start + this.silentWait(top);
    if (now >= silentAt && !pending) return { done: silentAt >= capAt ? "cap" : "timeout", retry, wakeAt: now };
    return { retry, wakeAt: Math.min(wakeAt, Math.max(silentAt, now)) };
  }

  /**
   * How long after the start the destination is given up. When an earlier trace of this network saw
   * its destination stay silent past the same last hop, nothing more is coming once that hop answered:
   * only the slack for this hop's jitter is left (a repeated trace of a silent client ends at about
   * 1.25 × the last hop's RTT instead of waiting for a far next link that is not there).
   */
  private silentWait(top: number): number {
    const far = this.farthestRtt();
    if (far !== undefined && this.prior && !this.prior.reached && top >= this.prior.lastTtl) return Math.min(this.capMs, overdueAfterMs(far));
    return silentWaitMs(far, this.capMs);
  }

  private anySilent(upTo: number): boolean {
    for (let t = 1; t < upTo; t++) if (!this.probes[t]!.answer) return true;
    return false;
  }

  /** The hops from TTL 1 to the destination, or to the farthest hop that answered. */
  hops(): Hop[] {
    const top = this.destinationTtl() ?? this.highestAnswered(this.maxTtl);
    const hops: Hop[] = [];
    for (let t = 1; t <= top; t++) {
      const a = this.probes[t]!.answer;
      hops.push(a ? hopOf(t, a) : { ttl: t, kind: "silent" });
    }
    return hops;
  }
}

/** A hop that answered, as traces report it (and onHop sees it as it arrives). */
export function hopOf(ttl: number, a: Answer): Hop {
  return { ttl, address: a.address, rttMs: round3(a.rttMs), kind: a.kind, ...(a.retried ? { retried: true } : {}) };
}

export function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
