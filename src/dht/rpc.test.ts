import { describe, expect, test } from "bun:test";
import { generateIdentity } from "../identity/identity.ts";
import { FakeClock } from "../util/clock.ts";
import { CONTACT6_BYTES, decode, encode, Flag, HEADER_BYTES, MsgType, zeroToken, type Packet } from "./codec.ts";
import { INITIAL_RTO_MS, K, MAX_RTO_MS, RPC_ATTEMPTS, UNVERIFIED_ATTEMPTS, UNVERIFIED_BURST } from "./constants.ts";
import { newCounters } from "./counters.ts";
import { checkRequestProof, makeProof } from "./proof.ts";
import { requestPadding, Rpc } from "./rpc.ts";
import { MemoryHub, uniformLinks } from "./transport/memory-hub.ts";

/** An Rpc and a hand-driven peer that answers (or not) as the test says. */
function setup(answer: (req: Packet, n: number) => Packet | undefined) {
  const clock = new FakeClock(0);
  const hub = new MemoryHub(clock, uniformLinks(10));
  const me = generateIdentity();
  const peerId = generateIdentity();
  const local = hub.endpoint();
  const remote = hub.endpoint();
  const counters = newCounters();
  const rpc = new Rpc(local, clock, me, counters);
  local.onDatagram((d, a, p) => rpc.handleReply(decode(d), a, p));
  const seen: Packet[] = [];
  remote.onDatagram((d, a, p) => {
    const req = decode(d);
    seen.push(req);
    const reply = answer(req, seen.length);
    if (reply) remote.send(encode(reply), a, p);
  });
  const pong = (req: Packet, extra: Partial<Packet> = {}): Packet => ({ flags: 0, rid: req.rid, sender: peerId.nodeId, token: new Uint8Array(8).fill(5), body: { type: MsgType.PONG, observed: { address: "10.0.0.1", port: 4100 } }, ...extra });
  return { clock, rpc, seen, counters, remote, pong, peerId, me };
}

describe("rpc", () => {
  test("a lost request is resent under a new request id after the RTO, and the reply resolves it", async () => {
    const s = setup((req, n) => (n === 1 ? undefined : s.pong(req)));
    const r = await s.clock.run(s.rpc.request({ address: s.remote.address, port: s.remote.port }, { type: MsgType.PING }));
    expect(r.ok).toBe(true);
    expect(s.seen.length).toBe(2);
    expect(s.seen[0]!.rid).not.toEqual(s.seen[1]!.rid);
    expect(s.counters.retransmits).toBe(1);
    // The RTT sample is the second attempt's round trip, not the time since the first send.
    if (r.ok) expect(r.rttMs).toBe(20);
    expect(s.clock.now()).toBe(INITIAL_RTO_MS + 20);
  });

  test("no answer at all resolves to a timeout value after every attempt, with doubled timeouts", async () => {
    const s = setup(() => undefined);
    let slow = 0;
    const r = await s.clock.run(s.rpc.request({ address: s.remote.address, port: s.remote.port }, { type: MsgType.PING }, { onSlow: () => slow++, trusted: true }));
    expect(r).toEqual({ ok: false, reason: "timeout" });
    expect(s.seen.length).toBe(RPC_ATTEMPTS);
    expect(slow).toBe(1);
    expect(s.clock.now()).toBe(INITIAL_RTO_MS * (1 + 2 + 4));
  });

  test("resend sends the request again now under a new request id, outside the schedule; a reply to any attempt resolves it", async () => {
    // The first two datagrams are lost (this node cut off); the third, a resend at 50 ms, is answered.
    const s = setup((req, n) => (n <= 2 ? undefined : s.pong(req)));
    let resend: () => boolean = () => false;
    const done = s.rpc.request({ address: s.remote.address, port: s.remote.port }, { type: MsgType.PING }, { trusted: true, onResend: (r) => (resend = r) });
    await s.clock.advance(20);
    expect(resend()).toBe(true);
    await s.clock.advance(30);
    expect(resend()).toBe(true);
    const r = await s.clock.run(done);
    expect(r.ok && r.rttMs).toBe(20);
    expect(s.clock.now()).toBe(70);
    expect(new Set(s.seen.map((p) => p.rid.join())).size).toBe(3);
    expect(s.counters.retransmits).toBe(2);
    // The request has ended: nothing more is sent.
    expect(resend()).toBe(false);
    expect(s.seen.length).toBe(3);
  });

  test("resends to an address that never answered count against its attempts: it still gets 2 datagrams at most", async () => {
    const s = setup(() => undefined);
    let resend: () => boolean = () => false;
    const r = s.rpc.request({ address: s.remote.address, port: s.remote.port }, { type: MsgType.PING }, { onResend: (f) => (resend = f) });
    expect([1, 2, 3].map(() => resend())).toEqual([true, false, false]);
    expect(await s.clock.run(r)).toEqual({ ok: false, reason: "timeout" });
    // The resend took the place of the retransmission: the budget of its IP keeps the rest for later requests.
    expect(s.counters.tx).toBe(UNVERIFIED_ATTEMPTS);
  });

  test("an address that never answered gets fewer attempts, and its IP a small budget of datagrams", async () => {
    const s = setup(() => undefined);
    const to = (port: number) => ({ address: s.remote.address, port });
    const results = await s.clock.run(Promise.all([1, 2, 3].map((p) => s.rpc.request(to(p), { type: MsgType.FIND_VALUE, kind: 1, key: new Uint8Array(20) }))));
    expect(results.every((r) => !r.ok)).toBe(true);
    // Three victims' ports on one IP: 2 attempts each would be 6 datagrams; the IP's budget allows 4.
    expect(s.counters.tx).toBe(UNVERIFIED_BURST);
    expect(s.counters.refused.unverifiedSends).toBe(2);
    // Nor is any of them padded to a full datagram.
    expect(s.counters.txBytes).toBeLessThanOrEqual(UNVERIFIED_BURST * requestPadding({ type: MsgType.FIND_NODE, target: new Uint8Array(20) }, true));
  });

  test("the budget holds for a victim's IPv6 LAN: addresses of one /64 share it; padding fits IPv6 replies, no more", async () => {
    const clock = new FakeClock(0);
    const hub = new MemoryHub(clock, uniformLinks(10));
    const counters = newCounters();
    const rpc = new Rpc(hub.host("dual"), clock, generateIdentity(), counters);
    const find = { type: MsgType.FIND_NODE, target: new Uint8Array(20) } as const;
    // Six addresses a hostile NODES reply could name in one home's /64 (nothing listens there).
    const victims = [1, 2, 3, 4, 5, 6].map((i) => ({ address: `2d00:1c0:77:1::${i}`, port: 4100 }));
    await clock.run(Promise.all(victims.map((to) => rpc.request(to, find))));
    expect(counters.tx).toBe(UNVERIFIED_BURST);
    const sizes = requestPadding(find, false, true);
    expect(counters.txBytes).toBe(UNVERIFIED_BURST * sizes);
    expect(sizes).toBe(HEADER_BYTES + 2 + K * CONTACT6_BYTES);
    // Another /64 has a budget of its own.
    await clock.run(rpc.request({ address: "2d00:1c0:77:2::1", port: 4100 }, find));
    expect(counters.tx).toBe(UNVERIFIED_BURST + 2);
  });

  test("with a token from an address, the next request proves our id to that node, once", async () => {
    const s = setup((req) => s.pong(req));
    const to = { address: s.remote.address, port: s.remote.port, id: s.peerId.nodeId };
    for (let i = 0; i < 3; i++) await s.clock.run(s.rpc.request(to, { type: MsgType.PING }));
    expect(s.seen.map((p) => p.proof !== undefined)).toEqual([false, true, false]);
    const req = s.seen[1]!;
    expect(checkRequestProof(req.proof!, s.me.nodeId, req.rid, s.peerId.nodeId, req.token)).toBe(true);
    expect(checkRequestProof(req.proof!, s.me.nodeId, req.rid, generateIdentity().nodeId, req.token)).toBe(false); // another receiver
    expect(checkRequestProof(req.proof!, s.me.nodeId, req.rid, s.peerId.nodeId, new Uint8Array(8).fill(6))).toBe(false); // another token
  });

  test("timeouts follow the measured RTT once there are samples", async () => {
    const s = setup((req, n) => (n === 3 ? undefined : s.pong(req)));
    const to = { address: s.remote.address, port: s.remote.port };
    await s.clock.run(s.rpc.request(to, { type: MsgType.PING }));
    await s.clock.run(s.rpc.request(to, { type: MsgType.PING }));
    const before = s.clock.now();
    await s.clock.run(s.rpc.request(to, { type: MsgType.PING })); // first attempt lost
    // RTO = SRTT + 4 RTTVAR after two 20 ms samples, far below the initial 1 s.
    expect(s.clock.now() - before).toBeLessThan(150);
    expect(s.rpc.rto(to.address, to.port)).toBeLessThan(150);
  });

  test("requests without a token are padded to the reply they may draw; with one they are not", async () => {
    const s = setup((req) => s.pong(req));
    const to = { address: s.remote.address, port: s.remote.port };
    await s.clock.run(s.rpc.request(to, { type: MsgType.FIND_NODE, target: new Uint8Array(20) }));
    expect(s.seen[0]!.padTo).toBeGreaterThan(500);
    await s.clock.run(s.rpc.request(to, { type: MsgType.FIND_NODE, target: new Uint8Array(20) }));
    expect(s.seen[1]!.padTo).toBeUndefined();
    expect(s.seen[1]!.token).toEqual(new Uint8Array(8).fill(5));
  });

  test("a truncated reply is asked again at once with the token it carried", async () => {
    const s = setup((req, n) => (n === 1 ? s.pong(req, { flags: Flag.TRUNCATED }) : s.pong(req, { proof: makeProof(s.peerId, req.rid, s.me.nodeId) })));
    const r = await s.clock.run(s.rpc.request({ address: s.remote.address, port: s.remote.port }, { type: MsgType.PING }, { wantProof: true }));
    expect(r.ok && r.proven).toBe(true);
    expect(s.seen.length).toBe(2);
    expect(s.seen[1]!.token).toEqual(new Uint8Array(8).fill(5));
    expect(s.clock.now()).toBe(40); // two round trips, no timeout
  });

  test("a forged proof is refused and counted", async () => {
    const other = generateIdentity();
    const s = setup((req) => s.pong(req, { proof: makeProof(other, req.rid, s.me.nodeId) }));
    const r = await s.clock.run(s.rpc.request({ address: s.remote.address, port: s.remote.port }, { type: MsgType.PING }, { wantProof: true }));
    expect(r.ok).toBe(false);
    expect(s.counters.dropped.badProof).toBe(RPC_ATTEMPTS);
  });

  test("a reply after its request timed out still counts: an RTT sample, not a stray (for MAX_RTO_MS)", async () => {
    // A far node among near ones: the RTO of an address never measured comes from the near ones.
    const s = setup(() => undefined);
    const to = { address: s.remote.address, port: s.remote.port };
    expect(await s.clock.run(s.rpc.request(to, { type: MsgType.PING }))).toEqual({ ok: false, reason: "timeout" });
    const gaveUp = s.clock.now();
    await s.clock.advance(100);
    expect(s.rpc.handleReply(s.pong(s.seen[0]!), to.address, to.port)).toBe(true);
    expect(s.counters.lateReplies).toBe(1);
    expect(s.rpc.srtt(to.address, to.port)).toBe(gaveUp + 100); // the first attempt went out at 0
    expect(s.rpc.handleReply(s.pong(s.seen[1]!), to.address, to.port)).toBe(false); // one late sample per request
    expect(s.counters.repliesMatched).toBe(0);

    await s.clock.run(s.rpc.request(to, { type: MsgType.PING }));
    await s.clock.advance(MAX_RTO_MS + 1);
    expect(s.rpc.handleReply(s.pong(s.seen.at(-1)!), to.address, to.port)).toBe(false);
    expect(s.counters.dropped.unsolicited).toBe(2);
  });

  test("replies nobody asked for, or from the wrong address, are dropped and counted", async () => {
    const s = setup(() => undefined);
    const stray: Packet = { flags: 0, rid: new Uint8Array(8), sender: s.peerId.nodeId, token: zeroToken(), body: { type: MsgType.STORED, status: 0 } };
    expect(s.rpc.handleReply(stray, "10.9.9.9", 1)).toBe(false);
    expect(s.counters.dropped.unsolicited).toBe(1);
    const pending = s.rpc.request({ address: s.remote.address, port: s.remote.port }, { type: MsgType.PING });
    await s.clock.advance(10);
    expect(s.rpc.handleReply(s.pong(s.seen[0]!), "10.9.9.9", s.remote.port)).toBe(false); // right id, wrong sender
    expect(s.counters.dropped.spoofed).toBe(1);
    expect((await s.clock.run(pending)).ok).toBe(false);
  });
});
