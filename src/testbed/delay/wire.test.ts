import { describe, expect, test } from "bun:test";
import { Fifo } from "./fifo.ts";
import { configMessages, encodeMessage, NFQA_PACKET_HDR, NFQNL_MSG_PACKET, parseMessages, VERDICT_BYTES, writeBatchVerdict, type Parsed } from "./wire.ts";

describe("nfnetlink_queue wire format", () => {
  test("config: bind, copy-meta params, maxlen, GSO flag; each asks for an ack", () => {
    const [bind, params, maxlen, flags] = configMessages(5, 16384, 10);
    const dv = (b: Uint8Array) => new DataView(b.buffer);
    expect(dv(bind!).getUint16(4, true)).toBe(0x0302); // NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_CONFIG
    expect(dv(bind!).getUint16(6, true)).toBe(5); // REQUEST | ACK
    expect(dv(bind!).getUint32(8, true)).toBe(10);
    expect(dv(bind!).getUint16(18, false)).toBe(5); // queue number, big-endian
    expect([...bind!.slice(20)]).toEqual([8, 0, 1, 0, 1, 0, 0, 0]); // attr len 8, type CMD, BIND
    expect(dv(params!).getUint16(20, true)).toBe(9); // 4 + be32 range + u8 mode
    expect(params![28]).toBe(1); // NFQNL_COPY_META
    expect(dv(maxlen!).getUint32(24, false)).toBe(16384);
    expect(dv(flags!).getUint32(24, false)).toBe(4);
    expect(dv(flags!).getUint32(32, false)).toBe(4);
    for (const m of [bind!, params!, maxlen!, flags!]) expect(dv(m).getUint32(0, true)).toBe(m.length);
  });

  test("batch verdict: accept every packet of the queue up to the id", () => {
    const buf = new DataView(new ArrayBuffer(2 * VERDICT_BYTES));
    const end = writeBatchVerdict(buf, writeBatchVerdict(buf, 0, 3, 0xfffffffe), 4, 9);
    expect(end).toBe(64);
    expect(buf.getUint16(4, true)).toBe(0x0303);
    expect(buf.getUint16(18, false)).toBe(3);
    expect(buf.getUint32(24, false)).toBe(1); // NF_ACCEPT
    expect(buf.getUint32(28, false)).toBe(0xfffffffe);
    expect(buf.getUint16(32 + 18, false)).toBe(4);
  });

  test("parses packets (several per datagram) and errors", () => {
    const pkt = (q: number, id: number) =>
      encodeMessage(NFQNL_MSG_PACKET, q, 0, 0, [[9, new Uint8Array(6)], [NFQA_PACKET_HDR, new Uint8Array([id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255, 8, 0, 4, 0])]]);
    const err = new Uint8Array(36);
    const ev = new DataView(err.buffer);
    ev.setUint32(0, 36, true);
    ev.setUint16(4, 2, true);
    ev.setInt32(16, -16, true);
    ev.setUint32(28, 77, true);
    const a = pkt(2, 70000), b = pkt(7, 1);
    const all = new Uint8Array([...a, ...b, ...err]);
    const got: [number, number][] = [];
    const others: Parsed[] = [];
    parseMessages(new DataView(all.buffer), all.length, (q, id) => got.push([q, id]), others);
    expect(got).toEqual([[2, 70000], [7, 1]]);
    expect(others).toEqual([{ kind: "error", errno: 16, seq: 77 }]);
  });
});

describe("per-queue FIFO", () => {
  test("releases in order up to now, grows past its initial size", () => {
    const f = new Fifo(0, 1, 5e6);
    for (let i = 0; i < 3000; i++) f.push(i, i * 10);
    expect(f.size).toBe(3000);
    expect(f.popDue(-1)).toBe(-1);
    expect(f.popDue(25)).toBe(2);
    expect(f.nextDue()).toBe(30);
    expect(f.popDue(1e9)).toBe(2999);
    expect(f.size).toBe(0);
    expect(f.nextDue()).toBe(Infinity);
  });
});
