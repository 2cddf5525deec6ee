/**
 * Finding 11, storage abuse:
 * - a STORE without an address token (so a spoofed source dodges the per-IP limits);
 * - a flood of records under keys next to the target's own id: a store that evicts the keys farthest from
 *   its id first evicts everything else it holds, and keys cost nothing to pick;
 * - a value with the largest sequence number there is (2^48 - 1), to win every read of a key for good
 *   (stored under the name's key, and under the honest publisher's key for that name).
 */
import { encodeAnnouncement } from "../../dht/announcement.ts";
import { MsgType, StoreStatus, zeroToken, type Endpoint } from "../../dht/codec.ts";
import { keyOf, randomId, valueKey, type Id } from "../../dht/id.ts";
import { RecordKind, signRecord, valuePayload } from "../../dht/record.ts";
import { paced, realWait, type AttackReport, type Wait } from "./dht-attacks.ts";
import type { RawDhtPeer } from "./dht-raw-peer.ts";

const MAX_SEQ = 2 ** 48 - 1;

function expiry(): number {
  return Math.floor(Date.now() / 1000) + 3600;
}

/** Stores one value without ever having received a token from the target. */
export async function storeWithoutToken(o: { attacker: RawDhtPeer; target: Endpoint }): Promise<AttackReport> {
  const key = keyOf("value", `no-token-${Math.random()}`);
  const record = signRecord(o.attacker.identity, RecordKind.VALUE, key, { seq: 1, expiresAt: expiry(), payload: new TextEncoder().encode("x") });
  const reply = await o.attacker.ask(o.target, { type: MsgType.STORE, kind: RecordKind.VALUE, key, record }, { token: zeroToken() });
  const status = reply?.body.type === MsgType.STORED ? reply.body.status : -1;
  const stored = status === StoreStatus.STORED;
  return { finding: 11, attack: "dht-store-without-token", outcome: stored ? "succeeded" : "refused", detail: { status } };
}

/** A key that shares its first `bits` bits with `id`. */
function keyNear(id: Id, bits: number): Id {
  const k = randomId();
  for (let b = 0; b < bits; b++) {
    const mask = 0x80 >> (b & 7);
    k[b >> 3] = (k[b >> 3]! & ~mask) | (id[b >> 3]! & mask);
  }
  return k;
}

export interface NearIdFloodOptions {
  attacker: RawDhtPeer;
  target: Endpoint;
  targetId: Id;
  records: number;
  perSecond?: number;
  /** Whether what the target held before the flood is still there. */
  survived: () => boolean;
  wait?: Wait;
}

export async function floodNearId(o: NearIdFloodOptions): Promise<AttackReport> {
  const wait = o.wait ?? realWait;
  await o.attacker.ask(o.target, { type: MsgType.PING }); // a token, as any honest storer has
  const payload = encodeAnnouncement({ address: o.attacker.endpoint.address, dhtPort: o.attacker.endpoint.port, peerPort: 1, rttMs: 1, hops: 1, timestamp: Date.now() });
  let stored = 0;
  await paced(o.records, o.perSecond, wait, async (i) => {
    const key = keyNear(o.targetId, 64);
    const record = signRecord(o.attacker.identity, RecordKind.ANNOUNCEMENT, key, { seq: i + 1, expiresAt: expiry(), payload });
    const reply = await o.attacker.ask(o.target, { type: MsgType.STORE, kind: RecordKind.ANNOUNCEMENT, key, record });
    if (reply?.body.type === MsgType.STORED && reply.body.status === StoreStatus.STORED) stored++;
  });
  const survived = o.survived();
  return { finding: 11, attack: "dht-store-near-id", outcome: survived ? (stored ? "contained" : "refused") : "succeeded", detail: { records: o.records, stored, survived } };
}

export interface LockOptions {
  attacker: RawDhtPeer;
  target: Endpoint;
  /** The key (`icon dht put KEY`) to lock, and the node id of the honest publisher whose value it is. */
  name: string;
  publisher: Id;
  /** Reads the key as an honest user would, after the attack. */
  read: () => Promise<string | undefined>;
  /** What the honest publisher stored there. */
  honest: string;
}

export async function lockValue(o: LockOptions): Promise<AttackReport> {
  await o.attacker.ask(o.target, { type: MsgType.PING });
  // Under the name's own key (where values once lived) and under the honest publisher's key for it.
  const name = keyOf("value", o.name);
  const statuses: number[] = [];
  for (const key of [name, valueKey(o.publisher, name)]) {
    const record = signRecord(o.attacker.identity, RecordKind.VALUE, key, { seq: MAX_SEQ, expiresAt: expiry(), payload: valuePayload(name, new TextEncoder().encode("x".repeat(880))) });
    const reply = await o.attacker.ask(o.target, { type: MsgType.STORE, kind: RecordKind.VALUE, key, record });
    statuses.push(reply?.body.type === MsgType.STORED ? reply.body.status : -1);
  }
  const status = statuses.join(",");
  const read = await o.read();
  return { finding: 11, attack: "dht-value-lock", outcome: read === o.honest ? "refused" : "succeeded", detail: { status, read: read === undefined ? "nothing" : read.slice(0, 16) } };
}
