/**
 * Who is at the other end of a peer connection: the Noise XX handshake (noise.ts) bound to both nodes'
 * ed25519 identities the way libp2p-noise binds it to peer ids. Each process makes a Noise static key at
 * start and signs it once with its node identity; the handshake carries that key, the identity key and
 * the signature, so each side derives the other's node id and knows the channel's keys belong to it.
 * Freshness comes from both sides' ephemeral keys: a recorded handshake cannot be replayed.
 *
 * The three messages keep the round trips of a plain websocket:
 *   1. upgrade request, header x-icon-noise  -> e                 payload (clear): version, the node id dialled
 *   2. the server's first frame              <- e, ee, s, es     payload: identity key, signature, boot id
 *   3. the client's first frame              -> s, se            payload: the same, and the client's endpoint claim
 * Message 3 leaves at once and the client's first request follows it without waiting for anything.
 * A dial made only to check a peer's endpoint claim says so in message 3 ("probe") and ends there.
 */
import { IconError } from "../errors.ts";
import { nodeIdOf, verifySignature, type Identity } from "../identity/identity.ts";
import { parseHostPort } from "../util/ipv6.ts";
import { toHex } from "../util/hex.ts";
import { generateKeyPair, XXHandshake, type CipherState, type KeyPair } from "./noise.ts";
import { PROTOCOL_VERSION } from "./protocol.ts";

/** The upgrade request's header that carries handshake message 1 (base64url). */
export const NOISE_HEADER = "x-icon-noise";
/** Mixed into the handshake hash: both sides must speak this protocol version. */
const PROLOGUE = new TextEncoder().encode(`icon-peer/${PROTOCOL_VERSION}`);
/** What a node signs with its identity key: this prefix and its Noise static key (libp2p-noise's scheme). */
const STATIC_KEY_PREFIX = new TextEncoder().encode("icon-peer-noise-static-key:");
const MAX_PAYLOAD_BYTES = 1024;

export interface ChannelKeys {
  send: CipherState;
  receive: CipherState;
}

/** The other node, as its handshake proved it. */
export interface PeerHello {
  nodeId: string;
  publicKey: Uint8Array;
  /** Random per process start: a new value from a known node means it restarted. */
  boot: string;
  /** Where the peer says it accepts connections (a claim: nothing has dialled it yet). */
  endpoint?: { address: string; port: number };
  /** The dial only checks this node's endpoint: no connection to keep. */
  probe: boolean;
}

/** A fresh boot id for a process: connections from an earlier run of the same node carry another. */
export function newBootId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(8)));
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const deny = (why: string) => new IconError("UNAUTHORIZED", `peer handshake refused: ${why}`, "Connect with a node of the same protocol version (icon node start), to the node id you meant.");

/** This process's side of every handshake. */
export class LocalPeer {
  readonly staticKey: KeyPair = generateKeyPair();
  private readonly signature: Uint8Array;

  constructor(readonly identity: Identity, readonly boot: string) {
    this.signature = identity.sign(Buffer.concat([STATIC_KEY_PREFIX, this.staticKey.publicKey]));
  }

  get nodeId(): string {
    return toHex(this.identity.nodeId);
  }

  /** The payload of message 2 or 3: who this node is. */
  hello(endpoint?: string, probe = false): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ key: b64(this.identity.publicKey), sig: b64(this.signature), boot: this.boot, ...(endpoint ? { endpoint } : {}), ...(probe ? { probe } : {}) }));
  }

  private handshake(initiator: boolean): XXHandshake {
    return new XXHandshake({ initiator, prologue: PROLOGUE, s: this.staticKey });
  }

  /** Dialling side, message 1: the header value, and the handshake to finish with the answer. */
  dial(toNodeId: string): { header: string; hs: XXHandshake } {
    const hs = this.handshake(true);
    const m1 = hs.writeMessage(new TextEncoder().encode(JSON.stringify({ v: PROTOCOL_VERSION, to: toNodeId })));
    return { header: Buffer.from(m1).toString("base64url"), hs };
  }

  /** Accepting side: reads message 1 from the upgrade request and writes message 2. */
  accept(header: string | null): { hs: XXHandshake; reply: Uint8Array } {
    if (!header) throw deny(`no ${NOISE_HEADER} header`);
    const hs = this.handshake(false);
    let first: { v?: unknown; to?: unknown };
    try {
      first = JSON.parse(new TextDecoder().decode(hs.readMessage(Buffer.from(header, "base64url"))));
    } catch {
      throw deny("malformed handshake message");
    }
    if (first.v !== PROTOCOL_VERSION) throw deny(`protocol version ${String(first.v)}; this node speaks ${PROTOCOL_VERSION}`);
    if (first.to !== this.nodeId) throw deny("addressed to another node");
    return { hs, reply: hs.writeMessage(this.hello()) };
  }

  /** Dialling side: reads message 2, checks it is the node dialled, writes message 3. */
  finishDial(hs: XXHandshake, message2: Uint8Array, expectedNodeId: string, endpoint: string, probe = false): { peer: PeerHello; message3: Uint8Array; keys: ChannelKeys } {
    const peer = checkHello(hs, hs.readMessage(message2));
    if (peer.nodeId !== expectedNodeId) throw deny(`the peer is node ${peer.nodeId.slice(0, 8)}, not ${expectedNodeId.slice(0, 8)}`);
    const message3 = hs.writeMessage(this.hello(endpoint, probe));
    return { peer, message3, keys: hs.split() };
  }
}

/** Accepting side: reads message 3; the client is now known. */
export function finishAccept(hs: XXHandshake, message3: Uint8Array): { peer: PeerHello; keys: ChannelKeys } {
  const peer = checkHello(hs, hs.readMessage(message3));
  return { peer, keys: hs.split() };
}

/** The identity in a hello payload, checked against the Noise static key the handshake just proved. */
function checkHello(hs: XXHandshake, payload: Uint8Array): PeerHello {
  if (payload.length > MAX_PAYLOAD_BYTES) throw deny("oversized hello");
  let h: { key?: unknown; sig?: unknown; boot?: unknown; endpoint?: unknown; probe?: unknown };
  try {
    h = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw deny("malformed hello");
  }
  if (typeof h.key !== "string" || typeof h.sig !== "string") throw deny("hello without key and signature");
  const publicKey = new Uint8Array(Buffer.from(h.key, "base64"));
  if (!verifySignature(publicKey, Buffer.concat([STATIC_KEY_PREFIX, hs.remoteStatic!]), new Uint8Array(Buffer.from(h.sig, "base64")))) throw deny("the channel key is not signed by the node's identity");
  const endpoint = typeof h.endpoint === "string" ? parseHostPort(h.endpoint) : undefined;
  return { nodeId: toHex(nodeIdOf(publicKey)), publicKey, boot: typeof h.boot === "string" ? h.boot.slice(0, 64) : "", endpoint, probe: h.probe === true };
}
