/**
 * The request side of the protocol: one map of outstanding requests, a timer each. A request is resent
 * after the contact's RTO (RFC 6298 estimate, doubled per attempt), each attempt under a fresh request id
 * so every reply is an exact RTT sample; after the last attempt it resolves to `{ ok: false }` (a value,
 * not an exception). `onSlow` fires at the first timeout so a lookup can move on at once instead of
 * waiting for the retries (the thesis's DHT waited 5 s per lost datagram).
 */
import { randomBytes } from "node:crypto";
import type { Identity } from "../identity/identity.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import { CONTACT_BYTES, encode, Flag, HEADER_BYTES, MsgType, PROOF_BYTES, zeroToken, type Body, type Packet } from "./codec.ts";
import { K, MAX_DATAGRAM, MAX_RTO_MS, RPC_ATTEMPTS, TOKEN_USE_MS } from "./constants.ts";
import type { DhtCounters } from "./counters.ts";
import { forgetOldest } from "./forget-oldest.ts";
import { equalIds, type Id } from "./id.ts";
import { checkProof, makeRequestProof } from "./proof.ts";
import { RttEstimator } from "./rtt.ts";
import type { DatagramTransport } from "./transport/types.ts";
import { toHex } from "../util/hex.ts";

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
  attempts?: number;
}

/** What we know about an address: its RTT and the last token it gave us. */
interface PeerInfo {
  rtt: RttEstimator;
  token?: Uint8Array;
  tokenAt: number;
}

interface Pending {
  to: RpcTarget;
  body: Body;
  opts: RequestOptions;
  attempt: number;
  rids: string[];
  sentAt: number[];
  ridBytes: Uint8Array[];
  timer?: TimerHandle;
  tokenRetry: boolean;
  slow: boolean;
  resolve: (r: RpcResult) => void;
}

const MAX_PEER_INFO = 10_000;

export class Rpc {
  private readonly pending = new Map<string, Pending>();
  private readonly peerInfo = new Map<string, PeerInfo>();
  /** RTT over all contacts: the prior for contacts never measured. */
  readonly globalRtt = new RttEstimator();
  private closed = false;

  constructor(
    private readonly transport: DatagramTransport,
    private readonly clock: Clock,
    private readonly identity: Identity,
    private readonly counters: DhtCounters,
    /** Sees every matched reply before its request resolves (routing-table upkeep). */
    private readonly onReply?: (packet: Packet, address: string, port: number, proven: boolean) => void,
  ) {}

  get outstanding(): number {
    return new Set(this.pending.values()).size;
  }

  info(address: string, port: number): PeerInfo {
    const k = `${address}:${port}`;
    let p = this.peerInfo.get(k);
    if (!p) {
      if (this.peerInfo.size >= MAX_PEER_INFO) forgetOldest(this.peerInfo, MAX_PEER_INFO >> 2);
      p = { rtt: new RttEstimator(), tokenAt: 0 };
      this.peerInfo.set(k, p);
    }
    return p;
  }

  /** Smoothed RTT to an address, if measured. */
  srtt(address: string, port: number): number | undefined {
    return this.peerInfo.get(`${address}:${port}`)?.rtt.srtt;
  }

  rto(address: string, port: number): number {
    return this.info(address, port).rtt.rto(this.globalRtt);
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
      const p: Pending = { to, body, opts, attempt: 0, rids: [], sentAt: [], ridBytes: [], tokenRetry: false, slow: false, resolve };
      this.send(p);
    });
  }

  /** The padded size for a request to an address we hold no fresh token from: the largest reply it can draw. */
  private padFor(body: Body, wantProof: boolean): number {
    const proof = wantProof ? PROOF_BYTES : 0;
    switch (body.type) {
      case MsgType.PING:
        return HEADER_BYTES + proof + 6;
      case MsgType.FIND_NODE:
        return HEADER_BYTES + proof + 1 + K * CONTACT_BYTES;
      case MsgType.FIND_VALUE:
        return MAX_DATAGRAM; // a VALUE reply may fill a datagram
      default:
        return 0; // a STORE is larger than its STORED reply
    }
  }

  private send(p: Pending): void {
    const info = this.info(p.to.address, p.to.port);
    const fresh = info.token && this.clock.now() - info.tokenAt < TOKEN_USE_MS;
    const rid = new Uint8Array(randomBytes(8));
    const ridHex = toHex(rid);
    const wantProof = p.opts.wantProof === true;
    const packet: Packet = {
      flags: wantProof ? Flag.WANT_PROOF : 0,
      rid,
      sender: this.identity.nodeId,
      token: fresh ? info.token! : zeroToken(),
      // Never had a token from this address: a first contact, so prove our id along (proof.ts), which
      // saves the responder a verification ping. Later requests need not (it knows us, or pings to check).
      proof: info.token ? undefined : makeRequestProof(this.identity, rid),
      body: p.body,
      padTo: fresh ? undefined : this.padFor(p.body, wantProof),
    };
    p.rids.push(ridHex);
    p.ridBytes.push(rid);
    p.sentAt.push(this.clock.now());
    this.pending.set(ridHex, p);
    const timeout = Math.min(MAX_RTO_MS, info.rtt.rto(this.globalRtt) * 2 ** p.attempt);
    p.timer = this.clock.setTimeout(() => this.expire(p), timeout);
    p.opts.onSend?.();
    this.sendRaw(encode(packet), p.to.address, p.to.port);
  }

  private expire(p: Pending): void {
    if (!p.slow) {
      p.slow = true;
      p.opts.onSlow?.();
    }
    p.attempt++;
    if (p.attempt < (p.opts.attempts ?? RPC_ATTEMPTS)) {
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
    p.resolve(r);
  }

  /**
   * Matches a decoded reply to its request. Returns false when nobody asked for it (counted).
   * A reply from another address than the request went to is dropped (it may be spoofed).
   */
  handleReply(packet: Packet, address: string, port: number): boolean {
    const ridHex = toHex(packet.rid);
    const p = this.pending.get(ridHex);
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
    info.rtt.sample(rttMs);
    this.globalRtt.sample(rttMs);
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
    this.onReply?.(packet, address, port, proven);
    const truncated = (packet.flags & Flag.TRUNCATED) !== 0;
    const missingProof = p.opts.wantProof === true && !proven;
    if (truncated && (packet.body.type === MsgType.VALUE || missingProof) && !p.tokenRetry) {
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
