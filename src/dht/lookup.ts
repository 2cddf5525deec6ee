/**
 * The iterative lookup (paper §2.3), answer-driven. Up to alpha queries are active at once; every answer
 * is merged the moment it arrives and the next closest unqueried node is asked at once, so no round waits
 * for its slowest member. A query whose first timeout passes stops counting against alpha (it keeps being
 * retried and is used if it answers), so a lost datagram costs one RTO, not a stalled round; so does a
 * query that has waited three times this lookup's median answer (its contact's RTO may be stale), and in a
 * value lookup a query to a node never measured that outlasts 90% of answers (its RTO is only a prior). A
 * lookup that hears nothing for a while is probably cut off by a burst of loss on its own link: it probes
 * rather than waiting out doubled timeouts (cut-off.ts). A value lookup ends at the first valid value
 * (records are verified before they count), or when the k closest nodes seen have all answered or failed.
 * A node lookup ends when none of the k closest is unqueried or waiting for a first answer: slow ones are
 * named as unconfirmed (closestAlive), not waited for.
 */
import type { Clock, TimerHandle } from "../util/clock.ts";
import { Flag, MsgType, type Body, type Endpoint } from "./codec.ts";
import { ALPHA, K, MIN_RTO_MS } from "./constants.ts";
import { CutOff } from "./cut-off.ts";
import type { OnEvent } from "./events.ts";
import { compareDistance, equalIds, type Id } from "./id.ts";
import type { RecordKind, SignedRecord } from "./record.ts";
import type { RequestOptions, RpcResult, RpcTarget } from "./rpc.ts";
import { isContactAddress, isContactAddress6 } from "./wire.ts";
import { toHex } from "../util/hex.ts";

const NEW = 0, INFLIGHT = 1, SLOW = 2, DONE = 3, FAILED = 4;
/** A query is a straggler once it has waited this many times the lookup's median answer. */
const STRAGGLER_FACTOR = 3;

/** A node in a lookup's shortlist: the nodes heard of so far, nearest the target first. */
export interface ShortlistEntry extends Endpoint {
  id: Id;
  idHex: string;
  hop: number;
  state: number;
}

/** A query not answered yet (and not slow): when it went out, when to ask another node too, how to mark it slow. */
interface Waiting {
  sentAt: number;
  hedgeAt: number;
  slow: () => void;
}

/** What a lookup needs from its node. */
export interface LookupDeps {
  self: Id;
  clock: Clock;
  request(to: RpcTarget, body: Body, opts: RequestOptions): Promise<RpcResult>;
  /** Whether a query to this node should ask it to prove its id (not proven yet, not asked already). */
  wantsProof(idHex: string, address: string, port: number): boolean;
  /** How long an answer from a node never measured may take (undefined: measured, its RPC timeout applies). */
  expectedRtt(address: string, port: number): number | undefined;
  /** The q-quantile of recent RTTs over all contacts (undefined: too few samples). */
  rttQuantile(q: number): number | undefined;
  /** A query to this node got no answer after all attempts. */
  onFailure(idHex: string): void;
  /** The records of a VALUE reply that verify (signature, payload, expiry). */
  validRecords(kind: RecordKind, key: Id, records: SignedRecord[]): SignedRecord[];
  /** Whether a contact another node named may be queried (not a private range this node is not on). */
  mayQuery(address: string): boolean;
}

export interface LookupOptions {
  target: Id;
  initial: (Endpoint & { id: Id })[];
  /** Set for FIND_VALUE; without it the lookup is a FIND_NODE. */
  kind?: RecordKind;
  k?: number;
  alpha?: number;
  onEvent?: OnEvent;
  /** Aborting ends the lookup with what it has (queries in flight still update the routing table). */
  signal?: AbortSignal;
}

export interface LookupResult {
  /** The closest nodes that answered, nearest first (at most k). */
  closest: ShortlistEntry[];
  /**
   * The k closest not known to be gone, nearest first: those that answered and those whose query was still
   * being retried when a node lookup ended (it does not wait for them).
   */
  closestAlive: ShortlistEntry[];
  records?: SignedRecord[];
  /** The node that returned the records. */
  from?: ShortlistEntry;
  /** Nearest node without the value that answered (the paper's caching target). */
  cacheTarget?: ShortlistEntry;
  hops: number;
  ms: number;
  /** Datagrams sent (with retransmissions) plus replies received. */
  messages: number;
  queried: number;
  /** Nodes that answered that they have not joined the network yet (Flag.JOINING: they named nobody). */
  joining: number;
}

export class Lookup {
  private readonly shortlist: ShortlistEntry[] = [];
  private readonly byId = new Map<string, ShortlistEntry>();
  private active = 0;
  private messages = 0;
  private queried = 0;
  private joining = 0;
  /** Answers in a row that named nobody closer than the closest node seen; alpha of them end the narrowing. */
  private stalled = 0;
  /** A node lookup that stopped getting closer queries the rest of the k closest at once. */
  private finishing = false;
  /** Queries not answered yet (and not slow). */
  private readonly waiting = new Map<ShortlistEntry, Waiting>();
  /** RTTs of this lookup's answers. */
  private readonly rtts: number[] = [];
  private stragglerTimer?: TimerHandle;
  /** Whether this node looks cut off, and the probes then (cut-off.ts). */
  private readonly cutOff: CutOff<ShortlistEntry>;
  private finished = false;
  private readonly started: number;
  private readonly k: number;
  private readonly alpha: number;
  private resolve!: (r: LookupResult) => void;
  readonly done: Promise<LookupResult>;

  constructor(private readonly deps: LookupDeps, private readonly opts: LookupOptions) {
    this.k = opts.k ?? K;
    this.alpha = opts.alpha ?? ALPHA;
    this.started = deps.clock.now();
    this.cutOff = new CutOff({
      clock: deps.clock,
      alpha: this.alpha,
      rttQuantile: (q) => deps.rttQuantile(q),
      nearestFirst: () => this.shortlist,
      askNext: () => {
        const next = this.shortlist.find((c) => c.state === NEW);
        if (next) this.query(next);
      },
      askAgainAfterTimeout: opts.kind !== undefined,
      onEvent: opts.onEvent,
    });
    this.done = new Promise((r) => (this.resolve = r));
    for (const c of opts.initial) this.add(c.id, c.address, c.port, 1);
    if (opts.signal?.aborted) queueMicrotask(() => this.finish());
    else {
      opts.signal?.addEventListener("abort", () => this.finish(), { once: true });
      queueMicrotask(() => {
        this.pump();
        this.cutOff.start();
      });
    }
  }

  private add(id: Id, address: string, port: number, hop: number): boolean {
    const idHex = toHex(id);
    const known = this.byId.get(idHex);
    if (known) {
      known.hop = Math.min(known.hop, hop);
      return false;
    }
    if (equalIds(id, this.deps.self)) return false;
    const c: ShortlistEntry = { id, idHex, address, port, hop, state: NEW };
    let lo = 0, hi = this.shortlist.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareDistance(this.opts.target, this.shortlist[mid]!.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.shortlist.splice(lo, 0, c);
    this.byId.set(idHex, c);
    // Bound memory: far unqueried entries beyond 4k can never enter the k-window.
    if (this.shortlist.length > 4 * this.k) {
      const last = this.shortlist[this.shortlist.length - 1]!;
      if (last.state === NEW) {
        this.shortlist.pop();
        this.byId.delete(last.idHex);
      }
    }
    return true;
  }

  private pump(): void {
    if (this.finished) return;
    let inWindow = 0;
    let open = false;
    for (const c of this.shortlist) {
      if (c.state === FAILED) continue;
      if (inWindow++ >= this.k) break;
      if (c.state === NEW && (this.finishing || this.active < this.cutOff.width)) this.query(c);
      // A node lookup does not wait for slow nodes (a lost datagram, retried): they are named among the
      // closest as unconfirmed, and whatever follows (a STORE) has its own retries.
      if (c.state !== DONE && !(c.state === SLOW && this.opts.kind === undefined)) open = true;
    }
    if (!open) this.finish();
  }

  private query(c: ShortlistEntry): void {
    c.state = INFLIGHT;
    this.active++;
    this.queried++;
    const to = `${c.address}:${c.port}`;
    this.opts.onEvent?.({ type: "query", to, id: c.idHex, hop: c.hop });
    const body: Body = this.opts.kind !== undefined
      ? { type: MsgType.FIND_VALUE, kind: this.opts.kind, key: this.opts.target }
      : { type: MsgType.FIND_NODE, target: this.opts.target };
    const sentAt = this.deps.clock.now();
    const onSlow = () => {
      this.waiting.delete(c);
      if (c.state !== INFLIGHT) return;
      c.state = SLOW;
      this.active--;
      this.cutOff.slow(sentAt);
      if (!this.finished) this.opts.onEvent?.({ type: "slow", to });
      this.pump();
    };
    // Only a value lookup hedges: a node lookup does not wait for slow queries, and would end without them.
    const expected = this.opts.kind !== undefined ? this.deps.expectedRtt(c.address, c.port) : undefined;
    this.waiting.set(c, { sentAt, hedgeAt: sentAt + (expected ?? Infinity), slow: onSlow });
    this.scheduleStragglers();
    const onResend = (resend: () => boolean) => this.cutOff.sent(c, resend);
    this.deps
      .request(c, body, { wantProof: this.deps.wantsProof(c.idHex, c.address, c.port), onSlow, onSend: () => this.messages++, onResend })
      .then((r) => this.answered(c, r));
  }

  /**
   * A query is treated as slow now (it stops counting against alpha, so the next closest node is asked too;
   * it is still retried and its answer used) once it has waited
   * - STRAGGLER_FACTOR times as long as this lookup's median answer (and at least MIN_RTO_MS), whatever its
   *   contact's timeout says: that timeout may date from a busy moment, and one straggler must not hold up
   *   the lookup;
   * - or, for a contact never measured, longer than 90% of answers take (deps.expectedRtt): its RPC timeout
   *   is a prior over all contacts and far longer (a hedged request: Dean & Barroso, "The tail at scale", 2013).
   */
  private checkStragglers(): void {
    const now = this.deps.clock.now();
    const limit = this.stragglerLimit();
    for (const w of [...this.waiting.values()]) if (now >= Math.min(w.hedgeAt, w.sentAt + limit)) w.slow();
    this.scheduleStragglers();
  }

  private stragglerLimit(): number {
    if (this.rtts.length < this.alpha) return Infinity;
    const sorted = [...this.rtts].sort((a, b) => a - b);
    return Math.max(MIN_RTO_MS, STRAGGLER_FACTOR * sorted[sorted.length >> 1]!);
  }

  private scheduleStragglers(): void {
    this.deps.clock.clearTimeout(this.stragglerTimer);
    if (this.finished) return;
    const limit = this.stragglerLimit();
    let next = Infinity;
    for (const w of this.waiting.values()) next = Math.min(next, w.hedgeAt, w.sentAt + limit);
    const now = this.deps.clock.now();
    if (next < Infinity) this.stragglerTimer = this.deps.clock.setTimeout(() => this.checkStragglers(), Math.max(0, next - now));
  }

  private answered(c: ShortlistEntry, r: RpcResult): void {
    if (c.state === INFLIGHT) this.active--;
    this.waiting.delete(c);
    this.cutOff.ended(c);
    const to = `${c.address}:${c.port}`;
    if (!r.ok && r.reason === "timeout" && this.cutOff.askAgain(c)) {
      // Lost to this node's own outage, not the peer's fault: asked again, not counted failed.
      c.state = NEW;
      this.pump();
      return;
    }
    if (!r.ok) {
      c.state = FAILED;
      if (r.reason === "timeout") this.deps.onFailure(c.idHex);
      if (!this.finished) this.opts.onEvent?.({ type: "timeout", to });
      this.pump();
      return;
    }
    c.state = DONE;
    if (this.finished) return;
    this.messages++;
    const now = this.deps.clock.now();
    for (const q of this.cutOff.answered(this.waiting)) {
      // Sent again now: its clocks (straggler, hedge) start again too.
      const w = this.waiting.get(q)!;
      w.hedgeAt += now - w.sentAt;
      w.sentAt = now;
    }
    this.rtts.push(r.rttMs);
    if (r.packet.flags & Flag.JOINING) this.joining++;
    const body = r.packet.body;
    if (body.type === MsgType.VALUE && this.opts.kind !== undefined) {
      const records = this.deps.validRecords(this.opts.kind, this.opts.target, body.records);
      if (records.length) {
        this.opts.onEvent?.({ type: "value", from: to, hop: c.hop, records: records.length });
        this.finish(records, c);
        return;
      }
    }
    let closer = 0;
    const closestBefore = this.closestLive();
    if (body.type === MsgType.NODES) {
      for (const n of body.contacts) {
        // A node naming private or loopback addresses could turn us against a LAN, or ourselves.
        if (!(isContactAddress(n.address) || isContactAddress6(n.address)) || (!this.byId.has(toHex(n.id)) && !this.deps.mayQuery(n.address))) continue;
        if (this.add(n.id, n.address, n.port, c.hop + 1)) closer++;
      }
    }
    // Paper §2.3: once a round of alpha answers brings nobody closer than the closest node seen, a node
    // lookup sends FIND_NODE to all of the k closest it has not queried yet (alpha at a time, the last
    // dozen of them took one RTT each).
    this.stalled = this.closestLive() === closestBefore ? this.stalled + 1 : 0;
    if (this.stalled >= this.alpha && this.opts.kind === undefined) this.finishing = true;
    this.opts.onEvent?.({ type: "reply", from: to, hop: c.hop, closer, rttMs: Math.round(r.rttMs * 10) / 10 });
    this.checkStragglers();
    this.pump();
  }

  private closestLive(): ShortlistEntry | undefined {
    return this.shortlist.find((c) => c.state !== FAILED);
  }

  private finish(records?: SignedRecord[], from?: ShortlistEntry): void {
    if (this.finished) return;
    this.finished = true;
    this.deps.clock.clearTimeout(this.stragglerTimer);
    this.cutOff.stop();
    const closest = this.shortlist.filter((c) => c.state === DONE).slice(0, this.k);
    const closestAlive = this.shortlist.filter((c) => c.state === DONE || c.state === SLOW).slice(0, this.k);
    const cacheTarget = records ? closest.find((c) => c !== from) : undefined;
    const hops = from ? from.hop : closest[0]?.hop ?? 0;
    const ms = this.deps.clock.now() - this.started;
    this.opts.onEvent?.({ type: "lookup-done", found: !!records, ms: Math.round(ms * 10) / 10, hops, messages: this.messages, queried: this.queried });
    this.resolve({ closest, closestAlive, records, from, cacheTarget, hops, ms, messages: this.messages, queried: this.queried, joining: this.joining });
  }
}
