import { afterEach, expect, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import { decodeAnswer, encodeAnnounce, encodeMap, OPCODE, Pcp } from "./pcp.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const NONCE = hex("0102030405060708090a0b0c");
const SERVER = "fe80::1";
const expected = { server: SERVER, port: 5351, opcode: OPCODE.map, nonce: NONCE };
const from = { address: "fe80::1%eth0", port: 5351 };

/** A MAP answer laid out by hand (RFC 6887 §7.2 and §11.1): header, then the MAP body. */
function answer(o: { version?: number; op?: number; result?: number; nonce?: string; size?: number } = {}): Uint8Array {
  const b = hex(
    `${(o.version ?? 2).toString(16).padStart(2, "0")} ${(o.op ?? 0x81).toString(16).padStart(2, "0")} 00 ${(o.result ?? 0).toString(16).padStart(2, "0")}` +
      " 00000e10 0000002a 000000000000000000000000" + // lifetime 3600, epoch 42, reserved
      ` ${o.nonce ?? "0102030405060708090a0b0c"} 11 000000 1004 1004 2d0001c0ff0100000000000000000010`,
  );
  return b.subarray(0, o.size ?? b.length);
}

test("a MAP request is laid out as RFC 6887 §7.1 and §11.1 say, byte for byte", () => {
  const req = encodeMap({ client: "2d00:1c0:ff01::10", nonce: NONCE, protocol: "udp", port: 4100, lifetimeSec: 3600 });
  expect(Buffer.from(req).toString("hex")).toBe(
    "02" + "01" + "0000" + "00000e10" + "2d0001c0ff0100000000000000000010" + // version, R=0 opcode MAP, reserved, lifetime, client
      "0102030405060708090a0b0c" + "11" + "000000" + "1004" + "1004" + "00000000000000000000000000000000", // nonce, UDP, reserved, ports, ::
  );
  const tcp = encodeMap({ client: "2d00:1c0:ff01::10", nonce: NONCE, protocol: "tcp", port: 20000, lifetimeSec: 0 });
  expect([tcp[36], tcp[40], tcp[41], tcp[7]]).toEqual([6, 0x4e, 0x20, 0]);
  expect(() => encodeMap({ client: "192.0.2.1", nonce: NONCE, protocol: "tcp", port: 1, lifetimeSec: 1 })).toThrow("IPv6 address");
  expect(() => encodeMap({ client: "::1", nonce: NONCE.subarray(1), protocol: "tcp", port: 1, lifetimeSec: 1 })).toThrow("12 bytes");
  expect(Buffer.from(encodeAnnounce("::1")).toString("hex")).toBe("0200" + "0000" + "00000000" + "00000000000000000000000000000001");
});

test("an answer is read from the server (link-local with or without its scope), with its lifetime, epoch and port", () => {
  expect(decodeAnswer(answer(), from, expected)).toEqual({ lifetimeSec: 3600, epoch: 42, externalPort: 4100, externalAddress: "2d00:1c0:ff01::10" });
  expect(decodeAnswer(answer(), { address: SERVER, port: 5351 }, { ...expected, server: "fe80::1%eth0" })).toMatchObject({ lifetimeSec: 3600 });
  expect(decodeAnswer(answer({ op: 0x80, size: 24 }), from, { server: SERVER, port: 5351, opcode: OPCODE.announce })).toEqual({ lifetimeSec: 3600, epoch: 42 });
});

test("what is not the answer is ignored: another sender or port, a short packet, another opcode or nonce", () => {
  expect(decodeAnswer(answer(), { address: "fe80::2%eth0", port: 5351 }, expected)).toEqual({ ignored: "from [fe80::2%eth0]:5351, not the server" });
  expect(decodeAnswer(answer(), { address: SERVER, port: 5350 }, expected)).toHaveProperty("ignored");
  expect(decodeAnswer(answer({ size: 59 }), from, expected)).toEqual({ ignored: "59 bytes, a MAP answer has 60" });
  expect(decodeAnswer(answer({ size: 3 }), from, expected)).toHaveProperty("ignored");
  expect(decodeAnswer(answer({ op: 0x01 }), from, expected)).toEqual({ ignored: "opcode 1" }); // our own request, no response bit
  expect(decodeAnswer(answer({ nonce: "ffffffffffffffffffffffff" }), from, expected)).toEqual({ ignored: "another nonce" });
  // A refusal with another nonce is no refusal of ours either.
  expect(decodeAnswer(answer({ nonce: "ffffffffffffffffffffffff", result: 2 }), from, expected)).toEqual({ ignored: "another nonce" });
});

test("a result code refuses, by its name", () => {
  expect(() => decodeAnswer(answer({ result: 12 }), from, expected)).toThrow("the PCP server at fe80::1 refused: ADDRESS_MISMATCH (12)");
  expect(() => decodeAnswer(answer({ result: 2 }), from, expected)).toThrow("NOT_AUTHORIZED (2)");
  expect(() => decodeAnswer(answer({ result: 99 }), from, expected)).toThrow("result (99)");
  expect(() => decodeAnswer(answer({ version: 0, op: 0x81, result: 1, size: 8 }), from, expected)).toThrow("does not speak PCP version 2");
});

let server: Socket | undefined;
afterEach(() => server?.close());

/** A PCP server on ::1 that drops the first datagram it gets (so the client retransmits) and answers the rest. */
async function loopbackServer(reply: (req: Uint8Array) => Uint8Array[]): Promise<{ port: number; seen: Uint8Array[] }> {
  const seen: Uint8Array[] = [];
  const s = createSocket("udp6");
  server = s;
  s.on("message", (msg, rinfo) => {
    seen.push(new Uint8Array(msg));
    if (seen.length === 1) return;
    for (const r of reply(new Uint8Array(msg))) s.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, "::1", r));
  return { port: s.address().port, seen };
}

/** Echoes a MAP request as its answer: the response bit, the granted lifetime, the nonce and ports kept. */
function echo(req: Uint8Array, lifetimeSec = 1800): Uint8Array {
  const a = new Uint8Array(req);
  a[1] = req[1]! | 0x80;
  new DataView(a.buffer).setUint32(4, req[1] === OPCODE.map && new DataView(req.buffer).getUint32(4) === 0 ? 0 : lifetimeSec);
  return a;
}

test("the client retransmits, skips a stray answer, and keeps the nonce for the renewal and the delete", async () => {
  const { port, seen } = await loopbackServer((req) => {
    const stray = echo(req);
    stray.fill(0xee, 24, 36); // another nonce
    return [stray, echo(req)];
  });
  const pcp = new Pcp("::1", "::1", port);
  const opened = await pcp.open("udp", 4100, 3600);
  expect(opened.lifetimeSec).toBe(1800);
  expect(seen.length).toBe(2); // the first was dropped
  expect(Buffer.from(seen[1]!.subarray(24, 36)).toString("hex")).toBe(opened.id);
  expect(await pcp.open("udp", 4100, 3600, opened.id)).toEqual(opened);
  await pcp.remove("udp", 4100, opened.id);
  const last = seen.at(-1)!;
  expect(Buffer.from(last.subarray(24, 36)).toString("hex")).toBe(opened.id);
  expect(new DataView(last.buffer).getUint32(4)).toBe(0);
  const another = await pcp.open("tcp", 4101, 3600);
  expect(another.id).not.toBe(opened.id);
});

test("a server that gives another port is a NAT66: the mapping is deleted and refused", async () => {
  const { port, seen } = await loopbackServer((req) => {
    const a = echo(req);
    new DataView(a.buffer).setUint16(42, 40000);
    return [a];
  });
  await expect(new Pcp("::1", "::1", port).open("tcp", 4101, 3600)).rejects.toThrow("maps port 4101 to :: port 40000: a NAT66");
  expect(new DataView(seen.at(-1)!.buffer).getUint32(4)).toBe(0); // the delete
});
