/**
 * The answering side: PING, FIND_NODE, FIND_VALUE and STORE (paper §2.3). Every reply carries a fresh
 * address token; a requester that did not echo a valid one gets a reply no larger than its request
 * (contacts or records cut from the tail, TRUNCATED set), so the node cannot be used to amplify a spoofed
 * flood (token.ts), and its STOREs are refused (NO_TOKEN: it asks again with the token), so per-IP limits
 * hold for storage too. Records are verified before they are stored, and charged to the sender's /24.
 * Contacts in a private or reserved range are given only to requesters in that range (address-scope.ts),
 * and contacts of a family the requester does not reach not at all: a request names its families (the one
 * it came over, both with DUAL_STACK).
 */
import type { Identity } from "../identity/identity.ts";
import { CONTACT6_BYTES, CONTACT_BYTES, Flag, HEADER_BYTES, MsgType, PROOF_BYTES, StoreStatus, encode, type Body, type Packet, type WireContact } from "./codec.ts";
import { K, MAX_DATAGRAM } from "./constants.ts";
import type { DhtCounters } from "./counters.ts";
import type { RecordKind, SignedRecord } from "./record.ts";
import { recordSize, verifyRecord } from "./record.ts";
import type { RecordStore, StoreOutcome } from "./record-store.ts";
import type { RoutingTable } from "./routing-table.ts";
import type { Contact } from "./k-bucket.ts";
import { makeProof } from "./proof.ts";
import type { AddressTokens } from "./token.ts";
import type { Id } from "./id.ts";
import { sameScope } from "./address-scope.ts";
import { sourceOf } from "./record-store.ts";
import { toHex } from "../util/hex.ts";
import { familyOf } from "../util/ipv6.ts";

export interface ResponderDeps {
  identity: Identity;
  table: RoutingTable;
  store: RecordStore;
  tokens: AddressTokens;
  counters: DhtCounters;
  send(data: Uint8Array, address: string, port: number): void;
  /** Whether a sender not proven yet would enter the routing table (its bucket has room). */
  wouldKeep(sender: Id): boolean;
  /**
   * Whether the routing table is worth naming: not before the node's first self-lookup has reached the network.
   * Until then it knows only the nodes that joined through it, and naming them to each other builds an
   * island, a second network that shares the id space with the first and whose lookups never leave it
   * (seen in the 200-node simulation: a node whose bootstrap ping was lost took 1 s to retry, 50 nodes
   * joined through it and its newcomers meanwhile, and 46 of 200 lookups failed).
   */
  namesContacts(): boolean;
  /** A record was stored (for logs and the maintenance of own records). */
  onStored?(kind: RecordKind, key: Id, record: SignedRecord): void;
}

const OUTCOME_STATUS: Record<StoreOutcome, StoreStatus> = {
  stored: StoreStatus.STORED,
  unchanged: StoreStatus.UNCHANGED,
  stale: StoreStatus.STALE,
  expired: StoreStatus.STALE,
  culled: StoreStatus.CULLED,
  full: StoreStatus.FULL,
  invalid: StoreStatus.REJECTED,
};

export class Responder {
  constructor(private readonly d: ResponderDeps) {}

  /** Answers one decoded request of `length` bytes from address:port; `verified`: it echoed a valid token. */
  handle(req: Packet, address: string, port: number, length: number, verified: boolean): void {
    const cap = verified ? MAX_DATAGRAM : length;
    const body = this.answer(req, address, port, verified);
    let proof = req.flags & Flag.WANT_PROOF ? makeProof(this.d.identity, req.rid, req.sender) : undefined;
    // A stranger this node would keep: ask it to prove its id from a verified address (it cannot be pinged
    // for that: its address may be spoofed).
    let flags = !verified && !(req.flags & Flag.CLIENT) && this.d.wouldKeep(req.sender) ? Flag.WANT_PROOF : 0;
    if (body.type === MsgType.NODES && !this.d.namesContacts()) flags |= Flag.JOINING;
    let fitted = body;
    const fixed = HEADER_BYTES + (proof ? PROOF_BYTES : 0);
    if (fixed + bodySize(body) > cap) {
      flags |= Flag.TRUNCATED;
      if (proof && body.type !== MsgType.VALUE && HEADER_BYTES + bodySize(body) <= cap) proof = undefined;
      fitted = shrink(body, cap - HEADER_BYTES - (proof ? PROOF_BYTES : 0));
      if (HEADER_BYTES + (proof ? PROOF_BYTES : 0) + bodySize(fitted) > cap) {
        proof = undefined;
        fitted = shrink(body, cap - HEADER_BYTES);
      }
      if (HEADER_BYTES + bodySize(fitted) > cap) return; // not even an empty reply fits: say nothing
    }
    const reply: Packet = { flags, rid: req.rid, sender: this.d.identity.nodeId, token: this.d.tokens.issue(address, port), proof, body: fitted };
    this.d.counters.requestsAnswered++;
    this.d.send(encode(reply), address, port);
  }

  private answer(req: Packet, address: string, port: number, verified: boolean): Body {
    const b = req.body;
    switch (b.type) {
      case MsgType.PING:
        return { type: MsgType.PONG, observed: { address, port } };
      case MsgType.FIND_NODE:
        return { type: MsgType.NODES, contacts: this.closest(b.target, req, address) };
      case MsgType.FIND_VALUE: {
        const records = this.d.store.get(b.kind, b.key);
        if (records.length) return { type: MsgType.VALUE, kind: b.kind, records };
        return { type: MsgType.NODES, contacts: this.closest(b.key, req, address) };
      }
      case MsgType.STORE:
        if (!verified) {
          this.d.counters.dropped.storeNoToken++;
          return { type: MsgType.STORED, status: StoreStatus.NO_TOKEN };
        }
        return { type: MsgType.STORED, status: this.store(b.kind, b.key, b.record, sourceOf(address)) };
      default:
        throw new Error(`not a request: ${b.type}`);
    }
  }

  private closest(target: Id, req: Packet, requesterAddress: string): WireContact[] {
    const out: WireContact[] = [];
    if (!this.d.namesContacts()) return out; // flagged JOINING: a newcomer waits and asks again (upkeep.ts)
    const family = familyOf(requesterAddress);
    const dual = (req.flags & Flag.DUAL_STACK) !== 0;
    // A LAN or loopback contact means nothing to a requester outside that network, and tells it about ours;
    // a contact of the other family means nothing to a single-stack requester (a dual-stack contact is named
    // at its address of the requester's family).
    const at = (c: Contact) => {
      for (const e of [c, c.other]) if (e && (dual || familyOf(e.address) === family) && sameScope(e.address, requesterAddress)) return e;
      return undefined;
    };
    for (const c of this.d.table.closest(target, K, toHex(req.sender), (c) => at(c) !== undefined)) {
      const e = at(c)!;
      out.push({ id: c.id, address: e.address, port: e.port });
    }
    return out;
  }

  private store(kind: RecordKind, key: Id, record: SignedRecord, source: string): StoreStatus {
    if (!verifyRecord(kind, key, record)) {
      this.d.counters.dropped.badRecord++;
      return StoreStatus.REJECTED;
    }
    const outcome = this.d.store.put(kind, key, record, source);
    if (outcome === "stored") {
      this.d.counters.storesAccepted++;
      this.d.onStored?.(kind, key, record);
    } else if (outcome === "stale" || outcome === "expired") this.d.counters.dropped.staleRecord++;
    else if (outcome === "invalid") this.d.counters.dropped.badRecord++;
    else if (outcome === "full") this.d.counters.dropped.storeFull++;
    return OUTCOME_STATUS[outcome];
  }
}

export function bodySize(b: Body): number {
  switch (b.type) {
    case MsgType.PING:
      return 0;
    case MsgType.PONG:
      return familyOf(b.observed.address) === 6 ? 18 : 6;
    case MsgType.FIND_NODE:
      return 20;
    case MsgType.NODES:
      return nodesSize(b.contacts);
    case MsgType.FIND_VALUE:
      return 21;
    case MsgType.VALUE:
      return 2 + b.records.reduce((n, r) => n + recordSize(r), 0);
    case MsgType.STORE:
      return 21 + recordSize(b.record);
    case MsgType.STORED:
      return 1;
  }
}

/** A NODES body's size: the IPv4 list, and the IPv6 list with its count when there is one (codec.ts). */
function nodesSize(contacts: WireContact[]): number {
  const n6 = contacts.filter((c) => familyOf(c.address) === 6).length;
  return 1 + (contacts.length - n6) * CONTACT_BYTES + (n6 ? 1 + n6 * CONTACT6_BYTES : 0);
}

/** Cuts contacts or records from the tail until the body fits `room` bytes (other bodies are unchanged). */
function shrink(b: Body, room: number): Body {
  if (b.type === MsgType.NODES) {
    let n = b.contacts.length;
    while (n > 0 && nodesSize(b.contacts.slice(0, n)) > room) n--;
    return { ...b, contacts: b.contacts.slice(0, n) };
  }
  if (b.type === MsgType.VALUE) {
    const records: SignedRecord[] = [];
    let size = 2;
    for (const r of b.records) {
      if (size + recordSize(r) > room) break;
      records.push(r);
      size += recordSize(r);
    }
    return { ...b, records };
  }
  return b;
}
