/**
 * The request side of the protocol: one map of outstanding requests, a timer each. A request is resent
 * after the contact's RTO (RFC 6298 estimate, doubled per attempt), each attempt under a fresh request id
 * so every reply is an exact RTT sample; after the last attempt it resolves to `{ ok: false }` (a value,
 * not an exception). `onSlow` fires at the first timeout so a lookup can move on at once instead of
 * waiting for the retries (the thesis's DHT waited 5 s per lost datagram); `onResend` lets it send one
 * again at once when it looks cut off (cut-off.ts). Requests to an address that has
 * never answered are held to a budget (constants.ts, UNVERIFIED_*), so that nobody can aim them at a victim.
 */
import { randomBytes } from "node:crypto";
import type { Identity } from "../identity/identity.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import { CONTACT6_BYTES, CONTACT_BYTES, encode, Flag, HEADER_BYTES, MsgType, PROOF_BYTES, StoreStatus, zeroToken, type Body, type Packet } from "./codec.ts";
import { K, MAX_RTO_MS, RPC_ATTEMPTS, TOKEN_USE_MS, UNVERIFIED_ATTEMPTS, UNVERIFIED_BURST, UNVERIFIED_PER_SECOND } from "./constants.ts";
import type { DhtCounters } from "./counters.ts";
import { forgetOldest } from "./forget-oldest.ts";
import { equalIds, type Id } from "./id.ts";
import { checkProof, makeRequestProof } from "./proof.ts";
import { TokenBuckets } from "./rate-limit.ts";
import { DelayAboveFloor, RecentRtts, RttEstimator } from "./rtt.ts";
import { familiesOf, type DatagramTransport } from "./transport/types.ts";
import { toHex } from "../util/hex.ts";
import { familyOf, limitKey } from "../util/ipv6.ts";

export interface RpcTarget {
  address: string;
  port: number;
  /** The node id expected to answer, when known. */
  id?: Id;
}

export type RpcResult =
  | { ok: true; packet: Packet; rttMs: number; /** The reply carried a valid id proof. */ proven: boolean }
  | { ok: false; reason: "timeout" | "closed" };

export interface RequestOptions {
  /** Ask the responder to prove its id (we have not verified it yet). */
  wantProof?: boolean;
  /** Called once, when the first attempt has timed out. */
  onSlow?: () => void;
  /** Called for every datagram this request sends (lookups count their messages). */
  onSend?: () => void;
  /**
   * Called once, at once, with a function that sends the request again now under a new request id, outside
   * its retransmission schedule, which goes on unchanged (a lookup that looks cut off probes with it). It
   * returns false when nothing was sent: the request has ended, or the address is over its unverified budget.
   */
  onResend?: (resend: () => boolean) => void;
  attempts?: number;
  /** An address the operator gave (bootstrap) or a neighbour saved by an earlier run: not held to the unverified budget. */
  trusted?: boolean;
}

/** What we know about an address. */
interface PeerInfo {
  rtt: RttEstimator;
  /** The last token it gave us. */
  token?: Uint8Array;
  tokenAt: number;
  /** The node id that last answered there (a request proof names its receiver). */
  id?: Id;
  /** It answered us, or sent us a request with a valid token: it wants our datagrams. */
  verified: boolean;
  /** A request proof of ours has reached it. */
  proved: boolean;
  /** A PING carrying our proof is on its way (it asked for one). */
  proving?: boolean;
}

interface Pending {
  to: RpcTarget;
  body: Body;
  opts: RequestOptions;
  attempt: number;
  rids: string[];
  sentAt: number[];
  ridBytes: Uint8Array[];
  /** Per attempt: whether it carried our request proof. */
  withProof: boolean[];
  timer?: TimerHandle;
  tokenRetry: boolean;
  /** Datagrams sent by resend(), outside the schedule. */
  resent: number;
  slow: boolean;
  /** When it timed out: a reply after that still counts (late), but resolves nothing. */
  gaveUpAt?: number;
  resolve: (r: RpcResult) => void;
}

const MAX_PEER_INFO = 10_000;
/**
 * How long the request ids of a request that timed out are still matched, and how many at most. A node on a
 * far path among near ones answers after every attempt's timeout (the RTO of an unmeasured address comes
 * from the near ones, and an unverified one gets 2 attempts): without its late reply, its RTT is never
 * learnt and it never enters the routing table.
 */
const LATE_REPLY_MS = MAX_RTO_MS;
const MAX_LATE = 4096;

export class Rpc {
  private readonly pending = new Map<string, Pending>();
  /** Request ids of requests that timed out less than LATE_REPLY_MS ago, oldest first. */
  private readonly late = new Map<string, Pending>();
  private readonly peerInfo = new Map<string, PeerInfo>();
  /** RTT over all contacts: the prior for contacts never measured. */
  readonly globalRtt = new RttEstimator();
  /** The delay above each contact's floor, over all contacts (rtt.ts). */
  private readonly delay = new DelayAboveFloor();
  /** Recent RTTs over all contacts: what to expect of a contact never measured. */
  private readonly recent = new RecentRtts();
  /** Datagrams per IP to addresses that never answered (reflection budget). */
  private readonly unverified: TokenBuckets;
  private closed = false;
  /** Whether requests of a family go out with Flag.CLIENT: this node cannot be reached where it sends from. */
  asClient: (family: 4 | 6) => boolean = () => false;
  /** Requests ask for contacts of both families (Flag.DUAL_STACK) when this node has both. */
  private readonly dual: boolean;

  constructor(
    private readonly transport: DatagramTransport,
    private readonly clock: Clock,
    private readonly identity: Identity,
    private readonly counters: DhtCounters,
    /** Sees every matched reply before its request resolves (routing-table upkeep). */
    private readonly onReply?: (packet: Packet, address: string, port: number, proven: boolean) => void,
    /** This node's own IPs: never a victim of its own reflection. */
    private readonly ownIp: (address: string) => boolean = () => false,
  ) {
    this.unverified = new TokenBuckets(clock, UNVERIFIED_PER_SECOND, UNVERIFIED_BURST);
    const f = familiesOf(transport);
    this.dual = f.v4 && f.v6;
  }

  get outstanding(): number {
    return new Set(this.pending.values()).size;
  }

  info(address: string, port: number): PeerInfo {
    const k = `${address}:${port}`;
    let p = this.peerInfo.get(k);
    if (!p) {
      if (this.peerInfo.size >= MAX_PEER_INFO) forgetOldest(this.peerInfo, MAX_PEER_INFO >> 2);
      p = { rtt: new RttEstimator(), tokenAt: 0, verified: false, proved: false };
      this.peerInfo.set(k, p);
    }
    return p;
  }

  /** Smoothed RTT to an address, if measured. */
  srtt(address: string, port: number): number | undefined {
    return this.peerInfo.get(`${address}:${port}`)?.rtt.srtt;
  }

  /** The lowest RTT to an address within the floor window (rtt.ts), if measured. */
  floorRtt(address: string, port: number): number | undefined {
    return this.peerInfo.get(`${address}:${port}`)?.rtt.floor;
  }

  rto(address: string, port: number): number {
    return this.delay.rto(this.info(address, port).rtt, this.globalRtt, this.clock.now());
  }

  /**
   * How long an answer from a contact never measured may take before a lookup asks another node too: the
   * 90th percentile of recent RTTs over all contacts. Undefined for a measured contact (its RTO, from its
   * own floor, is that bound) and before there are enough samples.
   */
  expectedRtt(address: string, port: number): number | undefined {
    return this.peerInfo.get(`${address}:${port}`)?.rtt.floor === undefined ? this.recent.quantile(0.9) : undefined;
  }

  /** The q-quantile of recent RTTs over all contacts (rtt.ts, RecentRtts). */
  rttQuantile(q: number): number | undefined {
    return this.recent.quantile(q);
  }

  /** The address sent us a request with a valid token: it receives our datagrams. */
  markVerified(address: string, port: number): void {
    this.info(address, port).verified = true;
  }

  /** Sends a datagram that is not a tracked request (replies). */
  sendRaw(data: Uint8Array, address: string, port: number): void {
    this.counters.tx++;
    this.counters.txBytes += data.length;
    this.transport.send(data, address, port);
  }

  request(to: RpcTarget, body: Body, opts: RequestOptions = {}): Promise<RpcResult> {
    if (this.closed) return Promise.resolve({ ok: false, reason: "closed" });
    return new Promise((resolve) => {
      const p: Pending = { to, body, opts, attempt: 0, rids: [], sentAt: [], ridBytes: [], withProof: [], tokenRetry: false, resent: 0, slow: false, resolve };
      opts.onResend?.(() => this.resend(p));
      this.send(p);
    });
  }

  /** Whether requests to this address are held to the unverified budget. */
  private unverifiedTarget(p: Pending, info: PeerInfo): boolean {
    return !info.verified && p.opts.trusted !== true && !this.ownIp(p.to.address);
  }

  /** Sends the request's next attempt and starts its timer (RTO, doubled per attempt). */
  private send(p: Pending): void {
    if (!this.mayTransmit(p)) return this.finish(p, { ok: false, reason: "timeout" });
    this.transmit(p);
    const timeout = Math.min(MAX_RTO_MS, this.rto(p.to.address, p.to.port) * 2 ** p.attempt);
    p.timer = this.clock.setTimeout(() => this.expire(p), timeout);
  }

  private resend(p: Pending): boolean {
    const last = p.rids.at(-1);
    if (last === undefined || !this.pending.has(last)) return false;
    // To an address that never answered, a resend takes the place of a retransmission (its budget is for requests).
    if (this.unverifiedTarget(p, this.info(p.to.address, p.to.port)) && this.attemptsLeft(p) <= 0) return false;
    if (!this.mayTransmit(p)) return false;
    p.resent++;
    this.counters.retransmits++;
    this.transmit(p);
    return true;
  }

  /** Attempts the request has left: fewer to an address that never answered, where resends count as attempts. */
  private attemptsLeft(p: Pending): number {
    const attempts = p.opts.attempts ?? RPC_ATTEMPTS;
    if (!this.unverifiedTarget(p, this.info(p.to.address, p.to.port))) return attempts - p.attempt - 1;
    return Math.min(attempts, UNVERIFIED_ATTEMPTS) - p.attempt - 1 - p.resent;
  }

  /** Per IPv6 /64: a hostile NODES reply could name every address of a victim's LAN. */
  private mayTransmit(p: Pending): boolean {
    if (!this.unverifiedTarget(p, this.info(p.to.address, p.to.port)) || this.unverified.take(limitKey(p.to.address))) return true;
    this.counters.refused.unverifiedSends++;
    return false;
  }

  /** Sends one attempt of the request under a new request id. */
  private transmit(p: Pending): void {
    const info = this.info(p.to.address, p.to.port);
    const fresh = info.token && this.clock.now() - info.tokenAt < TOKEN_USE_MS;
    const rid = new Uint8Array(randomBytes(8));
    const ridHex = toHex(rid);
    const wantProof = p.opts.wantProof === true;
    // With a token from this address, prove our id once (proof.ts): it saves the responder a verification ping.
    const receiver = p.to.id ?? info.id;
    const proof = fresh && receiver && !info.proved ? makeRequestProof(this.identity, rid, receiver, info.token!) : undefined;
    const family = familyOf(p.to.address) ?? 4;
    const packet: Packet = {
      flags: (wantProof ? Flag.WANT_PROOF : 0) | (this.asClient(family) ? Flag.CLIENT : 0) | (this.dual ? Flag.DUAL_STACK : 0),
      rid,
      sender: this.identity.nodeId,
      token: fresh ? info.token! : zeroToken(),
      proof,
      body: p.body,
      padTo: fresh ? undefined : requestPadding(p.body, wantProof, this.dual || family === 6),
    };
    p.rids.push(ridHex);
    p.ridBytes.push(rid);
    p.withProof.push(proof !== undefined);
    p.sentAt.push(this.clock.now());
    this.pending.set(ridHex, p);
    p.opts.onSend?.();
    this.sendRaw(encode(packet), p.to.address, p.to.port);
  }

  private expire(p: Pending): void {
    if (!p.slow) {
      p.slow = true;
      p.opts.onSlow?.();
    }
    if (this.attemptsLeft(p) > 0) {
      p.attempt++;
      this.counters.retransmits++;
      this.send(p);
      return;
    }
    this.counters.rpcTimeouts++;
    this.finish(p, { ok: false, reason: "timeout" });
  }

  private finish(p: Pending, r: RpcResult): void {
    this.clock.clearTimeout(p.timer);
    for (const rid of p.rids) this.pending.delete(rid);
    if (!r.ok && r.reason === "timeout" && p.rids.length) this.rememberLate(p);
    p.resolve(r);
  }

  private rememberLate(p: Pending): void {
    const now = this.clock.now();
    for (const [rid, q] of this.late) {
      if (now - q.gaveUpAt! <= LATE_REPLY_MS) break;
      this.late.delete(rid);
    }
    if (this.late.size >= MAX_LATE) forgetOldest(this.late, MAX_LATE >> 2);
    p.gaveUpAt = now;
    for (const rid of p.rids) this.late.set(rid, p);
  }

  private latePending(ridHex: string): Pending | undefined {
    const p = this.late.get(ridHex);
    return p && this.clock.now() - p.gaveUpAt! <= LATE_REPLY_MS ? p : undefined;
  }

  /**
   * Matches a decoded reply to its request. Returns false when nobody asked for it (counted).
   * A reply from another address than the request went to is dropped (it may be spoofed).
   */
  handleReply(packet: Packet, address: string, port: number): boolean {
    const ridHex = toHex(packet.rid);
    const p = this.pending.get(ridHex) ?? this.latePending(ridHex);
    if (!p) {
      this.counters.dropped.unsolicited++;
      return false;
    }
    if (p.to.address !== address || p.to.port !== port) {
      this.counters.dropped.spoofed++;
      return false;
    }
    const attempt = p.rids.indexOf(ridHex);
    const rttMs = this.clock.now() - p.sentAt[attempt]!;
    const info = this.info(address, port);
    const now = this.clock.now();
    const above = info.rtt.sample(rttMs, now);
    if (above !== undefined) this.delay.sample(above, now);
    this.globalRtt.sample(rttMs, now);
    this.recent.sample(rttMs);
    info.verified = true;
    info.id = packet.sender;
    if (p.withProof[attempt]) info.proved = true;
    if (packet.token.some((b) => b !== 0)) {
      info.token = packet.token;
      info.tokenAt = this.clock.now();
    }
    let proven = false;
    if (packet.proof) {
      if (!checkProof(packet.proof, packet.sender, p.ridBytes[attempt]!, this.identity.nodeId)) {
        this.counters.dropped.badProof++;
        return true; // keep waiting: a retransmission may draw an honest answer
      }
      proven = true;
    }
    if (packet.flags & Flag.WANT_PROOF && !info.proved && !info.proving) {
      // It would keep us: prove our id at once (the PING carries the proof, bound to the token just received).
      info.proving = true;
      void this.request({ address, port, id: packet.sender }, { type: MsgType.PING }).finally(() => (info.proving = false));
    }
    this.onReply?.(packet, address, port, proven);
    if (p.gaveUpAt !== undefined) {
      // Its request already timed out: the RTT sample and the contact count, the caller has moved on.
      for (const rid of p.rids) this.late.delete(rid);
      this.counters.lateReplies++;
      return true;
    }
    const truncated = (packet.flags & Flag.TRUNCATED) !== 0;
    const missingProof = p.opts.wantProof === true && !proven;
    const noToken = packet.body.type === MsgType.STORED && packet.body.status === StoreStatus.NO_TOKEN;
    if (((truncated && (packet.body.type === MsgType.VALUE || missingProof)) || noToken) && !p.tokenRetry) {
      // The responder did not know our address yet; we now hold its token, so ask again at once.
      p.tokenRetry = true;
      this.clock.clearTimeout(p.timer);
      this.send(p);
      return true;
    }
    if (p.to.id && !equalIds(p.to.id, packet.sender) && !proven) {
      // Another node answers at this address and cannot show who it is: as good as no answer.
      this.finish(p, { ok: false, reason: "timeout" });
      return true;
    }
    this.counters.repliesMatched++;
    this.finish(p, { ok: true, packet, rttMs, proven });
    return true;
  }

  close(): void {
    this.closed = true;
    for (const p of new Set(this.pending.values())) this.finish(p, { ok: false, reason: "closed" });
  }
}

/**
 * The padded size of a request to an address we hold no fresh token from: room for the largest NODES reply
 * it can draw, never more (a VALUE that does not fit comes back TRUNCATED and is asked for again with the
 * token), since a hostile NODES reply may have named a victim. `v6`: the reply may carry IPv6 addresses (the
 * request goes over IPv6, or asks for both families).
 */
export function requestPadding(body: Body, wantProof: boolean, v6 = false): number {
  const proof = wantProof ? PROOF_BYTES : 0;
  switch (body.type) {
    case MsgType.PING:
      return HEADER_BYTES + proof + (v6 ? 18 : 6);
    case MsgType.FIND_NODE:
    case MsgType.FIND_VALUE:
      return HEADER_BYTES + proof + (v6 ? 2 + K * CONTACT6_BYTES : 1 + K * CONTACT_BYTES);
    default:
      return 0; // a STORE is larger than its STORED reply
  }
}
