/**
 * The signed handshake that opens a peer websocket (the thesis had no authentication at all, 3.3).
 *
 * The client signs its upgrade request: who it is (public key), whom it means to reach (the server's
 * node id, so a captured handshake cannot be relayed to another node), when, and a random nonce. The
 * server accepts a handshake once: a nonce seen inside the time window is a replay. The server's first
 * frame signs the client's nonce back, so the client knows it reached the node it asked for. Together
 * this gives a mutually authenticated channel in the same round trips as a plain websocket.
 */
import { randomBytes } from "node:crypto";
import { IconError } from "../errors.ts";
import { nodeIdOf, verifySignature, type Identity } from "../identity/identity.ts";
import { HANDSHAKE_WINDOW_MS, PROTOCOL_VERSION } from "./protocol.ts";
import { toHex } from "../util/hex.ts";

export const HEADER = {
  key: "x-icon-key",
  to: "x-icon-to",
  time: "x-icon-time",
  nonce: "x-icon-nonce",
  sig: "x-icon-sig",
  /** The client's own peer endpoint, so the server can dial it back later: "ADDRESS:PORT". */
  endpoint: "x-icon-endpoint",
  /** Random per process start: a new value from a known node means it restarted. */
  boot: "x-icon-boot",
} as const;

const enc = new TextEncoder();
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

function clientMessage(to: string, time: string, nonce: string, endpoint: string, boot: string): Uint8Array {
  return enc.encode(`icon-peer/${PROTOCOL_VERSION} hello\n${to}\n${time}\n${nonce}\n${endpoint}\n${boot}`);
}
function welcomeMessage(clientKey: string, nonce: string, boot: string): Uint8Array {
  return enc.encode(`icon-peer/${PROTOCOL_VERSION} welcome\n${clientKey}\n${nonce}\n${boot}`);
}

/** A fresh boot id for a process: connections from an earlier run of the same node carry another. */
export function newBootId(): string {
  return randomBytes(8).toString("hex");
}

export function handshakeHeaders(identity: Identity, toNodeId: string, endpoint: string, boot = "", now = Date.now()): Record<string, string> {
  const time = String(now);
  const nonce = b64(randomBytes(16));
  return {
    [HEADER.key]: b64(identity.publicKey),
    [HEADER.to]: toNodeId,
    [HEADER.time]: time,
    [HEADER.nonce]: nonce,
    [HEADER.endpoint]: endpoint,
    [HEADER.boot]: boot,
    [HEADER.sig]: b64(identity.sign(clientMessage(toNodeId, time, nonce, endpoint, boot))),
  };
}

/** Remembers nonces for the handshake window; bounded so a flood cannot grow it without limit. */
export class NonceCache {
  private seen = new Map<string, number>();
  constructor(private readonly max = 100_000) {}

  /** True the first time a nonce is seen within the window. */
  add(nonce: string, now: number): boolean {
    if (this.seen.has(nonce)) return false;
    if (this.seen.size >= this.max) this.prune(now);
    if (this.seen.size >= this.max) return false; // still full: refuse rather than forget
    this.seen.set(nonce, now);
    return true;
  }

  prune(now: number): void {
    for (const [n, t] of this.seen) {
      if (now - t <= 2 * HANDSHAKE_WINDOW_MS) break; // insertion order is time order
      this.seen.delete(n);
    }
  }
}

export interface VerifiedClient {
  nodeId: string;
  publicKey: Uint8Array;
  nonce: string;
  endpoint?: { address: string; port: number };
  boot: string;
}

/** Checks an upgrade request's handshake; throws UNAUTHORIZED saying what was wrong. */
export function verifyHandshake(headers: Headers, self: Identity, nonces: NonceCache, now = Date.now()): VerifiedClient {
  const get = (h: string) => headers.get(h) ?? "";
  const [key, to, time, nonce, sig, endpoint, boot] = [get(HEADER.key), get(HEADER.to), get(HEADER.time), get(HEADER.nonce), get(HEADER.sig), get(HEADER.endpoint), get(HEADER.boot)];
  const deny = (why: string) => new IconError("UNAUTHORIZED", `peer handshake refused: ${why}`, "Connect with a signed handshake from a node identity (icon node start).");
  if (!key || !time || !nonce || !sig) throw deny("missing signature headers");
  if (to !== toHex(self.nodeId)) throw deny("addressed to another node");
  const t = Number(time);
  if (!Number.isFinite(t) || Math.abs(now - t) > HANDSHAKE_WINDOW_MS) throw deny("timestamp outside the allowed window (check the clocks)");
  const publicKey = unb64(key);
  if (!verifySignature(publicKey, clientMessage(to, time, nonce, endpoint, boot), unb64(sig))) throw deny("bad signature");
  if (!nonces.add(nonce, now)) throw deny("replayed handshake");
  let ep: VerifiedClient["endpoint"];
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(endpoint);
  if (m && Number(m[2]) > 0 && Number(m[2]) < 65536) ep = { address: m[1]!, port: Number(m[2]) };
  return { nodeId: toHex(nodeIdOf(publicKey)), publicKey, nonce, endpoint: ep, boot: boot.slice(0, 64) };
}

export function welcomeFrame(self: Identity, client: VerifiedClient, boot: string): string {
  const clientKey = b64(client.publicKey);
  return JSON.stringify({ t: "welcome", v: PROTOCOL_VERSION, key: b64(self.publicKey), boot, sig: b64(self.sign(welcomeMessage(clientKey, client.nonce, boot))) });
}

/** The client's check of the server's welcome: right node, right nonce. Gives the server's boot id, or undefined when the check fails. */
export function verifyWelcome(frame: { key: string; sig: string; boot?: string }, expectedNodeId: string, self: Identity, sentNonce: string): string | undefined {
  const key = unb64(frame.key);
  const boot = typeof frame.boot === "string" ? frame.boot.slice(0, 64) : "";
  if (toHex(nodeIdOf(key)) !== expectedNodeId) return undefined;
  return verifySignature(key, welcomeMessage(b64(self.publicKey), sentNonce, boot), unb64(frame.sig)) ? boot : undefined;
}
