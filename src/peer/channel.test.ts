import { describe, expect, test } from "bun:test";
import { SecureChannel } from "./channel.ts";
import { generateKeyPair, MAX_MESSAGE_BYTES, XXHandshake } from "./noise.ts";
import { MAX_FRAME_BYTES } from "./protocol.ts";

/** Two channel ends after a real handshake; what one sends lands in `wire` for the test to pass on. */
function pair() {
  const none = new Uint8Array(0);
  const i = new XXHandshake({ initiator: true, prologue: none, s: generateKeyPair() });
  const r = new XXHandshake({ initiator: false, prologue: none, s: generateKeyPair() });
  r.readMessage(i.writeMessage(none));
  i.readMessage(r.writeMessage(none));
  r.readMessage(i.writeMessage(none));
  const wire: Uint8Array[] = [];
  const raw = { send: (m: Uint8Array) => void wire.push(m), close() {}, buffered: () => 0 };
  return { a: new SecureChannel(raw, i.split()), b: new SecureChannel(raw, r.split()), wire };
}

describe("the encrypted peer channel", () => {
  test("text and binary frames arrive as sent; a frame above one Noise message travels in fragments", () => {
    const { a, b, wire } = pair();
    const big = Uint8Array.from({ length: MAX_FRAME_BYTES }, (_, n) => n & 255);
    a.send('{"t":"msg"}');
    a.send(big);
    expect(wire.length).toBe(1 + Math.ceil(MAX_FRAME_BYTES / (MAX_MESSAGE_BYTES - 17)));
    expect(wire.every((m) => m.length <= MAX_MESSAGE_BYTES)).toBe(true);
    const out = wire.map((m) => b.open(m)).filter((f) => f !== undefined);
    expect(out[0]).toBe('{"t":"msg"}');
    expect(out[1]).toEqual(big);
    expect(out.length).toBe(2);
  });

  test("nothing on the wire reads as plaintext", () => {
    const { a, wire } = pair();
    a.send('{"env":["TOKEN=hunter2"]}');
    expect(Buffer.from(wire[0]!).includes("hunter2")).toBe(false);
  });

  test("an altered, replayed or plaintext message throws, so the connection closes", () => {
    const { a, b, wire } = pair();
    a.send("one");
    a.send("two");
    const [one, two] = wire as [Uint8Array, Uint8Array];
    expect(b.open(one)).toBe("one");
    expect(() => b.open(one)).toThrow(/failed authentication/);
    const altered = two.slice();
    altered[3]! ^= 4;
    expect(() => b.open(altered)).toThrow(/failed authentication/);
    expect(() => b.open('{"t":"req","id":1,"op":"x","body":null}')).toThrow(/plaintext frame/);
  });

  test("fragments that add up to more than the largest frame are refused", () => {
    const { a, b, wire } = pair();
    // A peer that sends a frame too large: its fragments are refused as they pile up.
    a.send(new Uint8Array(MAX_FRAME_BYTES + 200_000));
    expect(() => wire.forEach((m) => b.open(m))).toThrow(/above 1048576 bytes/);
  });
});
