/**
 * Noise_XX_25519_AESGCM_SHA256, written from the Noise Protocol Framework, revision 34
 * (noiseprotocol.org/noise.html; section numbers below are its own) and checked against the cacophony
 * and snow test vectors (noise.test.ts). X25519, AES-256-GCM, SHA-256 and HMAC all come from
 * node:crypto, which Bun implements natively (AES-GCM at several GB/s, X25519 in tens of microseconds).
 *
 *   XX:  -> e
 *        <- e, ee, s, es
 *        -> s, se
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from "node:crypto";
import { IconError } from "../errors.ts";

export const PROTOCOL_NAME = "Noise_XX_25519_AESGCM_SHA256";
/** Largest Noise message (section 3). */
export const MAX_MESSAGE_BYTES = 65535;
export const TAG_BYTES = 16;
export const DH_BYTES = 32;
const HASH_BYTES = 32;

// DER prefixes of an X25519 PKCS#8 private key and SubjectPublicKeyInfo; the raw 32 bytes follow.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

export function keyPairFromPrivate(raw: Uint8Array): KeyPair {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
  return { privateKey, publicKey: new Uint8Array(createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length)) };
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return { privateKey, publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length)) };
}

const fail = (why: string) => new IconError("UNAUTHORIZED", `peer channel: ${why}`, "The peer is not the node it claims to be, or something on the path altered the connection.");

function dh(own: KeyPair, remote: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(diffieHellman({ privateKey: own.privateKey, publicKey: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, remote]), format: "der", type: "spki" }) }));
  } catch {
    throw fail("invalid public key"); // a low-order point gives an all-zero secret, which OpenSSL refuses
  }
}

const hash = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const hmac = (key: Uint8Array, ...parts: Uint8Array[]) => {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** HKDF with two outputs (section 4.3). */
function hkdf(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const temp = hmac(chainingKey, ikm);
  const out1 = hmac(temp, Uint8Array.of(1));
  return [out1, hmac(temp, out1, Uint8Array.of(2))];
}

/** A key and its nonce counter (section 5.1). Every message under a key uses the next nonce. */
export class CipherState {
  private n = 0;
  private readonly iv = new Uint8Array(12);
  constructor(private readonly k?: Uint8Array) {}

  get hasKey(): boolean {
    return this.k !== undefined;
  }

  /** AESGCM's nonce is 32 zero bits, then the counter as 64 bits big-endian (section 12.4). */
  private nonce(): Uint8Array {
    if (this.n >= Number.MAX_SAFE_INTEGER) throw fail("nonce space exhausted");
    const v = new DataView(this.iv.buffer);
    v.setUint32(4, Math.floor(this.n / 2 ** 32));
    v.setUint32(8, this.n >>> 0);
    return this.iv;
  }

  /** Encrypts the plaintext given in parts (saves the sender a copy to join them). */
  encryptWithAd(ad: Uint8Array, ...plaintext: Uint8Array[]): Uint8Array {
    if (!this.k) return plaintext.length === 1 ? plaintext[0]! : Buffer.concat(plaintext);
    const c = createCipheriv("aes-256-gcm", this.k, this.nonce());
    c.setAAD(ad);
    const out = Buffer.concat([...plaintext.map((p) => c.update(p)), c.final(), c.getAuthTag()]);
    this.n++;
    return out;
  }

  /** Throws UNAUTHORIZED when the message was altered, replayed, reordered or is under another key. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext;
    if (ciphertext.length < TAG_BYTES) throw fail("message shorter than its tag");
    const body = ciphertext.subarray(0, ciphertext.length - TAG_BYTES);
    const d = createDecipheriv("aes-256-gcm", this.k, this.nonce());
    d.setAAD(ad);
    d.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
    let out: Uint8Array;
    try {
      out = d.update(body);
      d.final();
    } catch {
      throw fail("a message failed authentication");
    }
    this.n++;
    return out;
  }
}

/** The chaining key, the handshake hash and the current cipher (section 5.2). */
class SymmetricState {
  ck: Uint8Array;
  h: Uint8Array;
  cipher = new CipherState();

  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    this.h = name.length <= HASH_BYTES ? Uint8Array.from({ length: HASH_BYTES }, (_, i) => name[i] ?? 0) : hash(name);
    this.ck = this.h;
  }
  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf(this.ck, ikm);
    this.ck = ck;
    this.cipher = new CipherState(k);
  }
  mixHash(data: Uint8Array): void {
    this.h = hash(this.h, data);
  }
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const c = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(c);
    return c;
  }
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const p = this.cipher.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return p;
  }
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.ck, new Uint8Array(0));
    return [new CipherState(k1), new CipherState(k2)];
  }
}

type Token = "e" | "s" | "ee" | "es" | "se";
const XX: Token[][] = [["e"], ["e", "ee", "s", "es"], ["s", "se"]];

export interface XXInit {
  initiator: boolean;
  prologue: Uint8Array;
  /** The local static key pair. */
  s: KeyPair;
  /** The local ephemeral key pair; only test vectors fix it. @default a fresh one */
  e?: KeyPair;
}

/** One side of an XX handshake (section 5.3): three messages, then split into two transport ciphers. */
export class XXHandshake {
  private readonly ss: SymmetricState;
  private readonly initiator: boolean;
  private readonly s: KeyPair;
  private e?: KeyPair;
  private readonly fixedE?: KeyPair;
  private re?: Uint8Array;
  private rs?: Uint8Array;
  private step = 0;

  constructor(init: XXInit) {
    this.ss = new SymmetricState(PROTOCOL_NAME);
    this.ss.mixHash(init.prologue);
    this.initiator = init.initiator;
    this.s = init.s;
    this.fixedE = init.e;
  }

  get complete(): boolean {
    return this.step === XX.length;
  }
  /** The peer's static key, once its `s` token has been read. */
  get remoteStatic(): Uint8Array | undefined {
    return this.rs;
  }
  get handshakeHash(): Uint8Array {
    return this.ss.h;
  }

  private tokens(writing: boolean): Token[] {
    const mine = (this.step % 2 === 0) === this.initiator;
    if (this.complete || mine !== writing) throw fail(`handshake message ${this.step + 1} out of turn`);
    return XX[this.step++]!;
  }

  private mixDh(token: "ee" | "es" | "se"): void {
    // es: the initiator's e with the responder's s; se the other way round (section 7.1).
    const [own, remote] =
      token === "ee" ? [this.e, this.re] : (token === "es") === this.initiator ? [this.e, this.rs] : [this.s, this.re];
    this.ss.mixKey(dh(own!, remote!));
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const t of this.tokens(true)) {
      if (t === "e") {
        this.e = this.fixedE ?? generateKeyPair();
        parts.push(this.e.publicKey);
        this.ss.mixHash(this.e.publicKey);
      } else if (t === "s") parts.push(this.ss.encryptAndHash(this.s.publicKey));
      else this.mixDh(t);
    }
    parts.push(this.ss.encryptAndHash(payload));
    const out = Buffer.concat(parts);
    if (out.length > MAX_MESSAGE_BYTES) throw new IconError("TOO_LARGE", `handshake message of ${out.length} bytes`);
    return new Uint8Array(out);
  }

  readMessage(message: Uint8Array): Uint8Array {
    if (message.length > MAX_MESSAGE_BYTES) throw fail("handshake message too long");
    let at = 0;
    const take = (n: number) => {
      if (message.length - at < n) throw fail("handshake message too short");
      return message.subarray(at, (at += n));
    };
    for (const t of this.tokens(false)) {
      if (t === "e") {
        this.re = new Uint8Array(take(DH_BYTES));
        this.ss.mixHash(this.re);
      } else if (t === "s") this.rs = new Uint8Array(this.ss.decryptAndHash(take(DH_BYTES + (this.ss.cipher.hasKey ? TAG_BYTES : 0))));
      else this.mixDh(t);
    }
    return this.ss.decryptAndHash(message.subarray(at));
  }

  /** The transport ciphers once the three messages are through: one to send with, one to receive with. */
  split(): { send: CipherState; receive: CipherState } {
    if (!this.complete) throw fail("handshake not complete");
    const [c1, c2] = this.ss.split();
    return this.initiator ? { send: c1, receive: c2 } : { send: c2, receive: c1 };
  }
}
