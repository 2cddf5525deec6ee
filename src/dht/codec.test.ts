import { describe, expect, test } from "bun:test";
import { generateIdentity } from "../identity/identity.ts";
import { encodeAnnouncement } from "./announcement.ts";
import { CONTACT6_BYTES, CONTACT_BYTES, decode, encode, Flag, HEADER_BYTES, MsgType, StoreStatus, type Body, type Packet } from "./codec.ts";
import { MAX_DATAGRAM } from "./constants.ts";
import { keyOf, randomId } from "./id.ts";
import { makeProof, makeRequestProof } from "./proof.ts";
import { RecordKind, signRecord } from "./record.ts";
import { DecodeError } from "./wire.ts";

const me = generateIdentity();
const key = keyOf("router", "10.0.2.0/29");
const record = signRecord(me, RecordKind.ANNOUNCEMENT, key, {
  seq: 1_700_000_000_123,
  expiresAt: 1_900_000_000,
  payload: encodeAnnouncement({ address: "10.0.0.1", dhtPort: 4100, peerPort: 4101, rttMs: 12.5, hops: 3, timestamp: 1_700_000_000_000, price: 0.5 }),
});
const rid = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const token = new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]);

function packet(body: Body, extra: Partial<Packet> = {}): Packet {
  return { flags: 0, rid, sender: me.nodeId, token, body, ...extra };
}

const bodies: Body[] = [
  { type: MsgType.PING },
  { type: MsgType.PONG, observed: { address: "192.0.2.7", port: 4100 } },
  { type: MsgType.FIND_NODE, target: randomId() },
  { type: MsgType.NODES, contacts: Array.from({ length: 20 }, (_, i) => ({ id: randomId(), address: `10.0.0.${i + 1}`, port: 4000 + i })) },
  { type: MsgType.FIND_VALUE, kind: RecordKind.VALUE, key },
  { type: MsgType.VALUE, kind: RecordKind.ANNOUNCEMENT, records: [record, record] },
  { type: MsgType.STORE, kind: RecordKind.ANNOUNCEMENT, key, record },
  { type: MsgType.STORED, status: StoreStatus.CULLED },
];

function expectReject(bytes: Uint8Array, field: string) {
  let err: unknown;
  try {
    decode(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DecodeError);
  expect((err as DecodeError).field).toBe(field);
}

function mutate(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const b = bytes.slice();
  b[at] = value;
  return b;
}

describe("codec round trip", () => {
  for (const body of bodies) {
    test(`${body.type} survives encode and decode`, () => {
      const p = packet(body);
      const back = decode(encode(p));
      expect(back.body).toEqual(body);
      expect(back.rid).toEqual(rid);
      expect(back.sender).toEqual(me.nodeId);
      expect(back.token).toEqual(token);
    });
  }
  test("a proof and flags survive", () => {
    const proof = makeProof(me, rid, randomId());
    const back = decode(encode(packet({ type: MsgType.NODES, contacts: [] }, { proof, flags: Flag.TRUNCATED })));
    expect(back.proof).toEqual(proof);
    expect(back.flags).toBe(Flag.HAS_PROOF | Flag.TRUNCATED);
    expect(decode(encode(packet({ type: MsgType.NODES, contacts: [] }, { flags: Flag.JOINING }))).flags).toBe(Flag.JOINING);
    expect(decode(encode(packet({ type: MsgType.PONG, observed: { address: "10.0.0.1", port: 1 } }, { flags: Flag.JOINING }))).flags).toBe(0); // NODES only
  });
  test("a request may carry a proof of its sender's id", () => {
    const proof = makeRequestProof(me, rid, randomId(), token);
    const back = decode(encode(packet({ type: MsgType.FIND_NODE, target: key }, { proof, flags: Flag.WANT_PROOF })));
    expect(back.proof).toEqual(proof);
    expect(back.flags).toBe(Flag.WANT_PROOF | Flag.HAS_PROOF);
  });
  test("requests may be padded with zeros, and the padded size is reported", () => {
    const bytes = encode(packet({ type: MsgType.PING }, { padTo: 600 }));
    expect(bytes.length).toBe(600);
    expect(decode(bytes).padTo).toBe(600);
  });
  test("replies are never padded", () => {
    expect(encode(packet({ type: MsgType.STORED, status: 0 }, { padTo: 600 })).length).toBe(HEADER_BYTES + 1);
  });
  test("a full NODES reply with a proof fits one datagram", () => {
    const bytes = encode(packet(bodies[3]!, { proof: makeProof(me, rid, randomId()) }));
    expect(bytes.length).toBeLessThanOrEqual(MAX_DATAGRAM);
  });
});

describe("codec rejects every malformed field", () => {
  const ping = encode(packet({ type: MsgType.PING }));
  const nodes = encode(packet(bodies[3]!));
  const value = encode(packet(bodies[5]!));
  const store = encode(packet(bodies[6]!));
  const stored = encode(packet(bodies[7]!));
  const pong = encode(packet(bodies[1]!));
  const findValue = encode(packet(bodies[4]!));
  const body = HEADER_BYTES; // first body byte

  test("oversized datagrams", () => expectReject(new Uint8Array(MAX_DATAGRAM + 1), "length"));
  test("empty and short headers", () => {
    expectReject(new Uint8Array(0), "magic");
    expectReject(ping.slice(0, 2), "flags");
    expectReject(ping.slice(0, 10), "rid");
    expectReject(ping.slice(0, 30), "sender");
    expectReject(ping.slice(0, 38), "token");
  });
  test("magic", () => expectReject(mutate(ping, 0, 0xc2), "magic"));
  test("unknown type", () => {
    expectReject(mutate(ping, 1, 0), "type");
    expectReject(mutate(ping, 1, 9), "type");
  });
  test("flags: unknown bits, reply-only flags on requests, request-only flags on replies", () => {
    expectReject(mutate(ping, 2, 0x80), "flags");
    expectReject(mutate(stored, 2, Flag.CLIENT), "flags");
    expect(decode(mutate(ping, 2, Flag.CLIENT)).flags).toBe(Flag.CLIENT);
    expect(decode(encode(packet(bodies[7]!, { flags: Flag.CLIENT }))).flags).toBe(0); // never sent on a reply
    expectReject(mutate(stored, 2, Flag.JOINING), "flags"); // only a NODES reply says it is still joining
    expectReject(mutate(ping, 2, Flag.JOINING), "flags");
    expect(decode(mutate(nodes, 2, Flag.JOINING)).flags).toBe(Flag.JOINING);
    expectReject(mutate(ping, 2, Flag.TRUNCATED), "flags");
    expect(decode(mutate(stored, 2, Flag.WANT_PROOF)).flags).toBe(Flag.WANT_PROOF); // a reply asking for our proof
  });
  test("proof announced but missing", () => expectReject(mutate(stored, 2, Flag.HAS_PROOF), "proof.publicKey"));
  test("PONG observed address and port", () => {
    expectReject(pong.slice(0, body + 3), "observed.address");
    expectReject(pong.slice(0, body + 5), "observed.port");
  });
  test("FIND_NODE target", () => expectReject(encode(packet(bodies[2]!)).slice(0, body + 19), "target"));
  test("NODES count above k", () => expectReject(mutate(nodes, body, 21), "count"));
  test("NODES count larger than the contacts present", () => expectReject(mutate(nodes.slice(0, body + 1 + 26 * 3), body, 4), "contact.id"));
  test("NODES contact address 0.0.0.0 or multicast", () => {
    const at = body + 1 + 20; // first contact's address
    let b: Uint8Array = nodes.slice();
    b.fill(0, at, at + 4);
    expectReject(b, "contact.address");
    b = mutate(nodes, at, 224);
    expectReject(b, "contact.address");
  });
  test("NODES contact port zero", () => {
    const b = nodes.slice();
    b.fill(0, body + 1 + 24, body + 1 + 26);
    expectReject(b, "contact.port");
  });
  test("FIND_VALUE kind and key", () => {
    expectReject(mutate(findValue, body, 7), "kind");
    expectReject(findValue.slice(0, body + 10), "key");
  });
  test("VALUE kind, empty without TRUNCATED, missing records", () => {
    expectReject(mutate(value, body, 0), "kind");
    expectReject(mutate(value, body + 1, 0).slice(0, body + 2), "count");
    expectReject(mutate(value, body + 1, 3), "record.publicKey");
  });
  test("record fields: expiry zero, length beyond the datagram, a cut signature", () => {
    const rec = body + 2; // first record in VALUE
    const b = value.slice();
    b.fill(0, rec + 38, rec + 42);
    expectReject(b, "record.expiresAt");
    expectReject(mutate(mutate(value, rec + 42, 0xff), rec + 43, 0xff), "record.length");
    // A cut signature leaves less than the declared payload plus 64 bytes.
    expectReject(store.slice(0, store.length - 1), "record.length");
  });
  test("STORE kind", () => expectReject(mutate(store, body, 3), "kind"));
  test("STORED status", () => expectReject(mutate(stored, body, 7), "status"));
  test("bytes after a reply", () => {
    const b = new Uint8Array(stored.length + 1);
    b.set(stored);
    expectReject(b, "trailer");
  });
  test("non-zero padding after a request", () => {
    const padded = encode(packet({ type: MsgType.PING }, { padTo: 100 }));
    expectReject(mutate(padded, 99, 1), "padding");
  });
});

describe("IPv6 on the wire", () => {
  const v4 = (i: number) => ({ id: randomId(), address: `10.0.0.${i + 1}`, port: 4000 + i });
  const v6 = (i: number) => ({ id: randomId(), address: `2d00:1c0:${i + 1}::1`, port: 5000 + i });
  const body = HEADER_BYTES;

  test("an IPv4-only NODES reply and PONG are unchanged: no flag, 26-byte contacts", () => {
    const nodes = encode(packet({ type: MsgType.NODES, contacts: [v4(0), v4(1)] }));
    expect(nodes.length).toBe(HEADER_BYTES + 1 + 2 * CONTACT_BYTES);
    expect(nodes[2]).toBe(0);
    expect(encode(packet(bodies[1]!)).length).toBe(HEADER_BYTES + 6);
  });
  test("IPv6 contacts follow the IPv4 ones in a flagged list of their own", () => {
    const contacts = [v6(0), v4(0), v6(1), v4(1)];
    const bytes = encode(packet({ type: MsgType.NODES, contacts }));
    expect(bytes.length).toBe(HEADER_BYTES + 1 + 2 * CONTACT_BYTES + 1 + 2 * CONTACT6_BYTES);
    const back = decode(bytes);
    expect(back.flags).toBe(Flag.IPV6);
    expect(back.body).toEqual({ type: MsgType.NODES, contacts: [1, 3, 0, 2].map((i) => contacts[i]!) });
    const only6: Body = { type: MsgType.NODES, contacts: [v6(2)] };
    const back6 = encode(packet(only6));
    expect(back6[body]).toBe(0); // an empty IPv4 list first
    expect(decode(back6).body).toEqual(only6);
  });
  test("a full NODES reply of IPv6 contacts with a proof fits one datagram", () => {
    const bytes = encode(packet({ type: MsgType.NODES, contacts: Array.from({ length: 20 }, (_, i) => v6(i)) }, { proof: makeProof(me, rid, randomId()) }));
    expect(bytes.length).toBeLessThanOrEqual(MAX_DATAGRAM);
  });
  test("a PONG reports an IPv6 observer address, canonical", () => {
    const back = decode(encode(packet({ type: MsgType.PONG, observed: { address: "2D00:1C0:0:0::5", port: 4100 } })));
    expect(back.flags).toBe(Flag.IPV6);
    expect(back.body).toEqual({ type: MsgType.PONG, observed: { address: "2d00:1c0::5", port: 4100 } });
  });
  test("DUAL_STACK is a request flag; IPV6 a PONG and NODES flag only", () => {
    expect(decode(encode(packet({ type: MsgType.FIND_NODE, target: key }, { flags: Flag.DUAL_STACK }))).flags).toBe(Flag.DUAL_STACK);
    expect(decode(encode(packet({ type: MsgType.STORED, status: 0 }, { flags: Flag.DUAL_STACK }))).flags).toBe(0);
    expectReject(mutate(encode(packet({ type: MsgType.STORED, status: 0 })), 2, Flag.IPV6), "flags");
    expectReject(mutate(encode(packet({ type: MsgType.VALUE, kind: RecordKind.ANNOUNCEMENT, records: [record] })), 2, Flag.IPV6), "flags");
  });
  test("malformed IPv6 lists are dropped by field", () => {
    const mixed = encode(packet({ type: MsgType.NODES, contacts: [v4(0), v6(0), v6(1)] }));
    const list6 = body + 1 + CONTACT_BYTES; // the count6 byte
    const addr6 = list6 + 1 + 20; // the first IPv6 contact's address
    expectReject(mutate(mixed, list6, 0), "count6"); // the flag promises a list
    expectReject(mixed.slice(0, list6), "count6");
    expectReject(mutate(mixed, list6, 20), "count6"); // 1 + 20 > k
    expectReject(mixed.slice(0, mixed.length - 1), "contact.port");
    expectReject(mutate(mixed, addr6, 0xff), "contact.address"); // multicast
    let b = mixed.slice();
    b.set([0xfe, 0x80], addr6); // link-local: needs a zone the wire cannot carry
    expectReject(b, "contact.address");
    b = mixed.slice();
    b.fill(0, addr6, addr6 + 16); // ::
    expectReject(b, "contact.address");
    b = mixed.slice();
    b.fill(0, addr6, addr6 + 16);
    b.set([0xff, 0xff, 10, 0, 0, 1], addr6 + 10); // IPv4-mapped: that is an IPv4 contact
    expectReject(b, "contact.address");
    expectReject(new Uint8Array([...mixed, 0]), "trailer");
    const pong6 = encode(packet({ type: MsgType.PONG, observed: { address: "2d00:1c0::5", port: 4100 } }));
    expectReject(pong6.slice(0, body + 10), "observed.address");
    expectReject(mutate(encode(packet(bodies[1]!)), 2, Flag.IPV6), "observed.address"); // an IPv4 PONG read as IPv6 is short
  });
});
