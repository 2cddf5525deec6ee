/**
 * Whether a lookup looks cut off, and what it does then (issue 13). A lookup looks cut off when nothing has
 * answered for longer than 3 in 4 answers take (the 75th percentile of recent RTTs: with alpha queries out,
 * all of them that slow by chance happens about once in 64), or when alpha queries in a row went slow with
 * no answer: this node's own link is down (a burst of loss at its access link cuts it off from every peer
 * at once), not one peer slow. Then it sends one of its unanswered queries again every PROBE_INTERVAL_MS
 * (or, when none may be sent again, asks the next node) instead of waiting for their timeouts, so that it
 * resumes within about one RTT of the outage's end (PROBE_LIMIT bounds the datagrams this costs), and it
 * keeps twice alpha queries in flight for the rest of the lookup: it is late already, and more answers at
 * once make up part of the time lost.
 */
import type { Clock, TimerHandle } from "../util/clock.ts";
import { MIN_RTO_MS } from "./constants.ts";
import type { OnEvent } from "./events.ts";

export const PROBE_INTERVAL_MS = 50;
export const PROBE_LIMIT = 16;

/** What the watch needs from its lookup; Q is the lookup's handle of a query (its shortlist entry). */
export interface CutOffDeps<Q> {
  clock: Clock;
  alpha: number;
  /** The q-quantile of recent RTTs over all contacts (undefined: too few samples). */
  rttQuantile(q: number): number | undefined;
  /** The lookup's nodes, nearest the target first: probes go round those with a query open, in this order. */
  nearestFirst(): readonly Q[];
  /** Queries the nearest node not asked yet, if there is one (a probe when no query may be sent again). */
  askNext(): void;
  /**
   * Whether a query that timed out while cut off is asked again: a value lookup's is; a node lookup names the
   * others, and a STORE to it would find its budget spent if it never answered.
   */
  askAgainAfterTimeout: boolean;
  onEvent?: OnEvent;
}

export class CutOff<Q> {
  /** When the last answer came (or the lookup started), and how many queries sent since then went slow. */
  private lastAnswerAt: number;
  private silentSlow = 0;
  private active = false;
  private stopped = false;
  private quietTimer?: TimerHandle;
  /** Sends a query again now (rpc.ts, onResend), per query not answered yet. */
  private readonly resenders = new Map<Q, () => boolean>();
  private probeTimer?: TimerHandle;
  private probes = 0;
  /** Queries that failed while this node was cut off, asked again. */
  private readonly askedAgain = new Set<Q>();
  private wasCutOff = false;

  constructor(private readonly deps: CutOffDeps<Q>) {
    this.lastAnswerAt = deps.clock.now();
  }

  /** Queries the lookup keeps in flight: twice alpha once it has looked cut off. */
  get width(): number {
    return this.wasCutOff ? 2 * this.deps.alpha : this.deps.alpha;
  }

  /** Starts watching for a quiet spell (once the first queries are out). */
  start(): void {
    this.watchQuiet();
  }

  /** A query went out; `resend` sends it again now (false when it may not). */
  sent(q: Q, resend: () => boolean): void {
    this.resenders.set(q, resend);
  }

  /** A query sent at `sentAt` went slow; alpha of them since the last answer look like a cut-off. */
  slow(sentAt: number): void {
    if (sentAt >= this.lastAnswerAt && ++this.silentSlow >= this.deps.alpha) this.probe();
  }

  /** A query ended (answered or not): it is no longer probed. */
  ended(q: Q): void {
    this.resenders.delete(q);
  }

  /**
   * A query timed out: lost to this node's own outage, not the peer's fault, when cut off. Whether it is
   * asked again (once, while the probes last) rather than counted failed.
   */
  askAgain(q: Q): boolean {
    if (!this.active || !this.deps.askAgainAfterTimeout || this.probes >= PROBE_LIMIT || this.askedAgain.has(q)) return false;
    this.askedAgain.add(q);
    return true;
  }

  /**
   * An answer came: the probes stop. After a cut-off, the queries still waiting that went out since the last
   * answer were most likely lost, so they are sent again now rather than after their timeouts; returns
   * those sent again (the lookup restarts their clocks).
   */
  answered(waiting: ReadonlyMap<Q, { sentAt: number }>): Q[] {
    const cutOffSince = this.active ? this.lastAnswerAt : undefined;
    this.lastAnswerAt = this.deps.clock.now();
    this.silentSlow = 0;
    this.active = false;
    this.deps.clock.clearTimeout(this.probeTimer);
    const again: Q[] = [];
    if (cutOffSince !== undefined) for (const [q, w] of waiting) if (w.sentAt >= cutOffSince && this.resenders.get(q)?.()) again.push(q);
    this.watchQuiet();
    return again;
  }

  stop(): void {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.probeTimer);
    this.deps.clock.clearTimeout(this.quietTimer);
  }

  /** Looks cut off if nothing answers within the 75th percentile of recent RTTs from the last answer (or the start). */
  private watchQuiet(): void {
    this.deps.clock.clearTimeout(this.quietTimer);
    const quiet = this.deps.rttQuantile(0.75);
    if (quiet === undefined || this.stopped) return;
    const at = this.lastAnswerAt + Math.max(MIN_RTO_MS, quiet);
    this.quietTimer = this.deps.clock.setTimeout(() => this.probe(), Math.max(0, at - this.deps.clock.now()));
  }

  /**
   * Cut off: sends the unanswered queries again one at a time, nearest the target first and round the list,
   * at once and then every PROBE_INTERVAL_MS, until an answer comes, the lookup ends or PROBE_LIMIT probes
   * went out. An address that never answered gets no more datagrams per request than its retransmissions
   * would send (rpc.ts): when no query may be sent again, the probe is a query to the next node.
   */
  private probe(): void {
    if (this.active || this.stopped) return;
    this.active = true;
    this.deps.onEvent?.({ type: "cut-off", quietMs: Math.round(this.deps.clock.now() - this.lastAnswerAt) });
    this.wasCutOff = true;
    const tick = () => {
      this.probeTimer = undefined;
      if (!this.active || this.stopped || this.probes >= PROBE_LIMIT) return;
      const open = this.deps.nearestFirst().filter((q) => this.resenders.has(q));
      let sent = false;
      for (let i = 0; i < open.length && !sent; i++) sent = this.resenders.get(open[(this.probes + i) % open.length]!)!();
      // None may be sent again (an address that never answered gets 2 datagrams per request): ask a new node.
      if (!sent) this.deps.askNext();
      this.probes++;
      this.probeTimer = this.deps.clock.setTimeout(tick, PROBE_INTERVAL_MS);
    };
    tick();
  }
}
