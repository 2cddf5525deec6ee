/**
 * Id proofs. A node id is SHA-1 of the node's public key, so nobody can pick an id near a key they want
 * to capture, provided the id is checked: a contact enters a routing table only after it has signed, with
 * the key behind its id, either a reply to a request id we chose (WANT_PROOF: the proof cannot be replayed
 * elsewhere) or its first request to us (a request proof, over a request id the responder remembers for a
 * while, so a replay is refused; a replay from another address could at most copy a real node's id, never
 * choose one). Proofs are exchanged once per pair of nodes: one signature and one verification each way.
 */
import { nodeIdOf, verifySignature, type Identity } from "../identity/identity.ts";
import type { Proof } from "./codec.ts";
import { equalIds, type Id } from "./id.ts";

const DOMAIN = new TextEncoder().encode("icon-dht-proof/1");
const REQUEST_DOMAIN = new TextEncoder().encode("icon-dht-request-proof/1");

function proofBytes(rid: Uint8Array, requester: Id, domain = DOMAIN): Uint8Array {
  const out = new Uint8Array(domain.length + rid.length + requester.length);
  out.set(domain, 0);
  out.set(rid, domain.length);
  out.set(requester, domain.length + rid.length);
  return out;
}

/** A requester's proof of its own id, carried by its first request to a node. */
export function makeRequestProof(identity: Identity, rid: Uint8Array): Proof {
  return { publicKey: identity.publicKey, signature: identity.sign(proofBytes(rid, identity.nodeId, REQUEST_DOMAIN)) };
}

export function checkRequestProof(proof: Proof, sender: Id, rid: Uint8Array): boolean {
  if (!equalIds(nodeIdOf(proof.publicKey), sender)) return false;
  return verifySignature(proof.publicKey, proofBytes(rid, sender, REQUEST_DOMAIN), proof.signature);
}

export function makeProof(identity: Identity, rid: Uint8Array, requester: Id): Proof {
  return { publicKey: identity.publicKey, signature: identity.sign(proofBytes(rid, requester)) };
}

/** True when the proof shows that `sender` is SHA-1 of a key that signed (rid, requester). */
export function checkProof(proof: Proof, sender: Id, rid: Uint8Array, requester: Id): boolean {
  if (!equalIds(nodeIdOf(proof.publicKey), sender)) return false;
  return verifySignature(proof.publicKey, proofBytes(rid, requester), proof.signature);
}
