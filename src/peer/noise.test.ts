import { describe, expect, test } from "bun:test";
import { generateKeyPair, keyPairFromPrivate, XXHandshake, type CipherState } from "./noise.ts";
import vectors from "./noise-vectors.json";

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("Noise_XX_25519_AESGCM_SHA256", () => {
  // Published vectors (cacophony, snow): fixed keys in, every message's bytes out. Messages alternate
  // initiator, responder, initiator (the handshake), then responder, initiator... on the transport.
  for (const v of vectors.vectors) {
    test(`matches the ${v.source} vector`, () => {
      const init = new XXHandshake({ initiator: true, prologue: hex(v.init_prologue), s: keyPairFromPrivate(hex(v.init_static)), e: keyPairFromPrivate(hex(v.init_ephemeral)) });
      const resp = new XXHandshake({ initiator: false, prologue: hex(v.resp_prologue), s: keyPairFromPrivate(hex(v.resp_static)), e: keyPairFromPrivate(hex(v.resp_ephemeral)) });
      let ciphers: { init: { send: CipherState; receive: CipherState }; resp: { send: CipherState; receive: CipherState } } | undefined;
      v.messages.forEach((m, i) => {
        const fromInit = i % 2 === 0;
        let wire: Uint8Array;
        let read: Uint8Array;
        if (i < 3) {
          const [w, r] = fromInit ? [init, resp] : [resp, init];
          wire = w.writeMessage(hex(m.payload));
          read = r.readMessage(wire);
          if (i === 2) ciphers = { init: init.split(), resp: resp.split() };
        } else {
          const [w, r] = fromInit ? [ciphers!.init.send, ciphers!.resp.receive] : [ciphers!.resp.send, ciphers!.init.receive];
          wire = w.encryptWithAd(new Uint8Array(0), hex(m.payload));
          read = r.decryptWithAd(new Uint8Array(0), wire);
        }
        expect(toHex(wire)).toBe(m.ciphertext);
        expect(toHex(read)).toBe(m.payload);
      });
      if (v.handshake_hash) expect(toHex(init.handshakeHash)).toBe(v.handshake_hash);
      expect(toHex(init.remoteStatic!)).toBe(toHex(keyPairFromPrivate(hex(v.resp_static)).publicKey));
      expect(toHex(resp.remoteStatic!)).toBe(toHex(keyPairFromPrivate(hex(v.init_static)).publicKey));
    });
  }

  const handshake = () => {
    const [i, r] = [new XXHandshake({ initiator: true, prologue: new Uint8Array(0), s: generateKeyPair() }), new XXHandshake({ initiator: false, prologue: new Uint8Array(0), s: generateKeyPair() })];
    r.readMessage(i.writeMessage(new Uint8Array(0)));
    i.readMessage(r.writeMessage(new Uint8Array(0)));
    r.readMessage(i.writeMessage(new Uint8Array(0)));
    return { i: i.split(), r: r.split() };
  };
  const none = new Uint8Array(0);

  test("an altered, replayed or reordered transport message fails authentication", () => {
    const { i, r } = handshake();
    const [m1, m2, m3] = [1, 2, 3].map((n) => i.send.encryptWithAd(none, Uint8Array.of(n)));
    expect(r.receive.decryptWithAd(none, m1!)).toEqual(Uint8Array.of(1));
    expect(() => r.receive.decryptWithAd(none, m1!)).toThrow(/failed authentication/); // replayed
    expect(() => r.receive.decryptWithAd(none, m3!)).toThrow(/failed authentication/); // m2 skipped
    const flipped = m2!.slice();
    flipped[0]! ^= 1;
    expect(() => r.receive.decryptWithAd(none, flipped)).toThrow(/failed authentication/);
  });

  test("a handshake message altered on the way fails, and messages out of turn are refused", () => {
    const [i, r] = [new XXHandshake({ initiator: true, prologue: new Uint8Array(0), s: generateKeyPair() }), new XXHandshake({ initiator: false, prologue: new Uint8Array(0), s: generateKeyPair() })];
    r.readMessage(i.writeMessage(new Uint8Array(0)));
    const m2 = r.writeMessage(Uint8Array.of(9));
    m2[40]! ^= 0x80; // inside the encrypted static key
    expect(() => i.readMessage(m2)).toThrow(/failed authentication/);
    expect(() => r.writeMessage(none)).toThrow(/out of turn/);
  });

  test("different prologues never agree", () => {
    const i = new XXHandshake({ initiator: true, prologue: Uint8Array.of(1), s: generateKeyPair() });
    const r = new XXHandshake({ initiator: false, prologue: Uint8Array.of(2), s: generateKeyPair() });
    r.readMessage(i.writeMessage(none));
    expect(() => i.readMessage(r.writeMessage(none))).toThrow(/failed authentication/);
  });
});
