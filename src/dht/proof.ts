/**
 * Id proofs. A node id is SHA-1 of the node's public key, so nobody can pick an id near a key they want
 * to capture, provided the id is checked: a contact enters a routing table only after it has signed, with
 * the key behind its id, a reply to a request id we chose (so the proof cannot be replayed elsewhere).
 * A requester asks for a proof (WANT_PROOF) only from nodes it has not proven yet, so the cost is one
 * signature and one verification per pair of nodes.
 */
import { nodeIdOf, verifySignature, type Identity } from "../identity/identity.ts";
import type { Proof } from "./codec.ts";
import { equalIds, type Id } from "./id.ts";

const DOMAIN = new TextEncoder().encode("icon-dht-proof/1");

function proofBytes(rid: Uint8Array, requester: Id): Uint8Array {
  const out = new Uint8Array(DOMAIN.length + rid.length + requester.length);
  out.set(DOMAIN, 0);
  out.set(rid, DOMAIN.length);
  out.set(requester, DOMAIN.length + rid.length);
  return out;
}

export function makeProof(identity: Identity, rid: Uint8Array, requester: Id): Proof {
  return { publicKey: identity.publicKey, signature: identity.sign(proofBytes(rid, requester)) };
}

/** True when the proof shows that `sender` is SHA-1 of a key that signed (rid, requester). */
export function checkProof(proof: Proof, sender: Id, rid: Uint8Array, requester: Id): boolean {
  if (!equalIds(nodeIdOf(proof.publicKey), sender)) return false;
  return verifySignature(proof.publicKey, proofBytes(rid, requester), proof.signature);
}
