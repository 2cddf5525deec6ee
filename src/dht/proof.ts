/**
 * Id proofs. A node id is SHA-1 of the node's public key, so nobody can pick an id near a key they want
 * to capture, provided the id is checked: a contact enters a routing table only after it has signed, with
 * the key behind its id, either a reply to a request id we chose (WANT_PROOF: the proof cannot be replayed
 * elsewhere) or a request to us (a request proof). A request proof signs the receiver's id and the address
 * token the receiver gave the requester's address (token.ts), so it is good at that receiver only, from
 * that address only, and only while the token lives (10 minutes at most): a copy replayed at another node
 * or from another address fails, and a replay from the same address changes nothing. No memory of used
 * proofs is needed. Proofs are exchanged once per pair of nodes: one signature and one check each way.
 */
import { nodeIdOf, verifySignature, type Identity } from "../identity/identity.ts";
import type { Proof } from "./codec.ts";
import { equalIds, type Id } from "./id.ts";

const DOMAIN = new TextEncoder().encode("icon-dht-proof/1");
const REQUEST_DOMAIN = new TextEncoder().encode("icon-dht-request-proof/2");

function proofBytes(domain: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat([domain, ...parts]));
}

/** A requester's proof of its own id to `receiver`, bound to the token `receiver` gave its address. */
export function makeRequestProof(identity: Identity, rid: Uint8Array, receiver: Id, token: Uint8Array): Proof {
  return { publicKey: identity.publicKey, signature: identity.sign(proofBytes(REQUEST_DOMAIN, rid, identity.nodeId, receiver, token)) };
}

/** Checks a request proof at its receiver; the caller has checked the token against the source address. */
export function checkRequestProof(proof: Proof, sender: Id, rid: Uint8Array, receiver: Id, token: Uint8Array): boolean {
  if (!equalIds(nodeIdOf(proof.publicKey), sender)) return false;
  return verifySignature(proof.publicKey, proofBytes(REQUEST_DOMAIN, rid, sender, receiver, token), proof.signature);
}

export function makeProof(identity: Identity, rid: Uint8Array, requester: Id): Proof {
  return { publicKey: identity.publicKey, signature: identity.sign(proofBytes(DOMAIN, rid, requester)) };
}

/** True when the proof shows that `sender` is SHA-1 of a key that signed (rid, requester). */
export function checkProof(proof: Proof, sender: Id, rid: Uint8Array, requester: Id): boolean {
  if (!equalIds(nodeIdOf(proof.publicKey), sender)) return false;
  return verifySignature(proof.publicKey, proofBytes(DOMAIN, rid, requester), proof.signature);
}
