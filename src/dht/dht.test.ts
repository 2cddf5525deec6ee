import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "../identity/identity.ts";
import { decode, encode, Flag, HEADER_BYTES, MsgType, StoreStatus, zeroToken, type Body, type Packet } from "./codec.ts";
import { MAX_DATAGRAM } from "./constants.ts";
import { Dht } from "./dht.ts";
import { keyOf, randomId, valueKey } from "./id.ts";
import { makeRequestProof } from "./proof.ts";
import { RecordKind, signRecord, valuePayload } from "./record.ts";
import { SimNetwork } from "./sim/network.ts";
import { uniformLinks, type MemoryEndpoint } from "./transport/memory-hub.ts";
import { toHex } from "../util/hex.ts";

/** A raw endpoint on the hub that speaks the wire format by hand (an attacker, or a careful test). */
function rawPeer(net: SimNetwork) {
  const ep: MemoryEndpoint = net.hub.endpoint();
  const got: { bytes: Uint8Array; packet: Packet }[] = [];
  ep.onDatagram((bytes) => got.push({ bytes, packet: decode(bytes) }));
  const id = randomId();
  const send = (to: Dht, body: Body, extra: Partial<Packet> = {}) => {
    const bytes = encode({ flags: 0, rid: new Uint8Array(8).map(() => Math.random() * 256), sender: id, token: zeroToken(), body, ...extra });
    ep.send(bytes, to.opts.transport.address, to.port);
    return bytes;
  };
  /** The reply to a request sent earlier (matched by request id). */
  const replyTo = (request: Uint8Array) => {
    const rid = decode(request).rid.join();
    return got.find((g) => g.packet.rid.join() === rid && g.packet.body.type % 2 === 0);
  };
  return { ep, got, id, send, replyTo };
}

async function network(n: number, links = uniformLinks(10)) {
  const net = new SimNetwork({ links, seed: 7 });
  await net.grow(n, 5);
  return net;
}

describe("DHT protocol on the in-memory hub", () => {
  test("put from one node, get from every node", async () => {
    const net = await network(30);
    const report = await net.run(net.nodes[3]!.put("greeting", "hello"));
    expect(report.ok).toBe(true);
    expect(report.replicas).toBeGreaterThanOrEqual(15);
    for (const n of net.nodes) {
      const r = await net.run(n.get("greeting", { publisher: net.nodes[3]!.nodeId }));
      expect(r && new TextDecoder().decode(r.value)).toBe("hello");
    }
    expect(await net.run(net.nodes[0]!.get("greeting"))).toBeUndefined(); // node 0's own "greeting": never put
    expect(await net.run(net.nodes[0]!.get("no such key", { publisher: net.nodes[3]!.nodeId }))).toBeUndefined();
    await net.stopAll();
  });

  test("announcements from many nodes merge under one routerId, nearest first", async () => {
    const net = await network(25);
    const rtts = [40, 7, 19, 3, 28];
    await net.run(Promise.all(rtts.map((rttMs, i) => net.nodes[i]!.announce("10.0.2.0/29", { peerPort: 5000 + i, rttMs, hops: 2 }))));
    const list = await net.run(net.nodes[20]!.findAnnouncements("10.0.2.0/29"));
    expect(list.map((a) => a.rttMs)).toEqual([3, 7, 19, 28, 40]);
    expect(list[0]!.nodeId).toBe(net.nodes[3]!.nodeId);
    expect(list[0]!.address).toBe(net.nodes[3]!.opts.transport.address);
    // The holders answer from their local store.
    const holders = net.nodes.filter((n) => n.localAnnouncements("10.0.2.0/29").length === 5);
    expect(holders.length).toBeGreaterThanOrEqual(15);
    // A withdrawn announcement is no longer republished.
    expect(net.nodes[0]!.withdraw("10.0.2.0/29")).toBe(true);
    expect(net.nodes[0]!.announcedRouters()).toEqual([]);
    await net.stopAll();
  });

  test("a lost reply costs one retransmission timeout, not a stalled lookup", async () => {
    const links = uniformLinks(20);
    const net = await network(10, links);
    const a = net.nodes[1]!;
    await net.run(net.nodes[5]!.put("k", "v"));
    links.loss = () => 1; // everything lost for a moment...
    const lookup = a.lookup(valueKey(net.nodes[5]!.id, keyOf("value", "k")), RecordKind.VALUE);
    net.clock.setTimeout(() => (links.loss = () => 0), 50); // ...then the network heals
    const r = await net.run(lookup);
    expect(r.records?.length).toBe(1);
    // 2 x 20 ms RTT plus one RTO (about 1 s for a fresh contact at most), far from the thesis's 5 s per loss.
    expect(r!.ms).toBeLessThan(1500);
    expect(a.counters.retransmits).toBeGreaterThan(0);
    await net.stopAll();
  });

  test("an aborted lookup ends at once with what it has", async () => {
    const net = await network(10, uniformLinks(200));
    const ctl = new AbortController();
    const found = net.nodes[2]!.findAnnouncements("nobody announces this router", { signal: ctl.signal });
    const t0 = net.clock.now();
    net.clock.setTimeout(() => ctl.abort(), 50);
    expect(await net.run(found)).toEqual([]);
    expect(net.clock.now() - t0).toBeLessThan(100); // a full lookup needs at least 2 x 400 ms here
    await net.stopAll();
  });

  test("a node joining through a node that is itself still joining waits for it, and ends up knowing the network", async () => {
    const links = uniformLinks(10);
    const net = await network(20, links);
    const first = net.nodes[0]!;
    links.loss = (_, to) => (to === first.opts.transport.address ? 1 : 0);
    const x = await net.addNode(first); // its bootstrap ping is lost: it asks again 1 s later
    links.loss = () => 0;
    const y = await net.addNode(x);
    expect(await net.run(y.join())).toBeGreaterThanOrEqual(15); // not just x (an island of two, and growing)
    expect(x.table.size).toBeGreaterThanOrEqual(15);
    await net.stopAll();
  });

  test("rttTo is the path's RTT: replies slowed for a while (a busy peer) do not raise it", async () => {
    let extraMs = 0;
    const net = await network(4, { delayMs: () => 10 + extraMs, loss: () => 0 });
    const [a, b] = [net.nodes[0]!, net.nodes[1]!];
    const at = { address: b.opts.transport.address, port: b.port };
    expect(await net.run(a.rttTo(b.nodeId, at))).toBe(20);
    extraMs = 100; // 220 ms round trips: enough samples to move a smoothed RTT most of the way
    for (let i = 0; i < 8; i++) await net.run(a.request(at, { type: MsgType.PING }));
    expect(await net.run(a.rttTo(b.nodeId, at))).toBe(20);
    await net.stopAll();
  });

  test("a node learns its external address once several peers agree", async () => {
    const net = await network(6);
    const n = net.nodes[5]!;
    expect(n.externalAddress()).toEqual({ address: n.opts.transport.address, port: n.port });
    expect(n.advertisedAddress()).toBe(n.opts.transport.address);
    expect(n.status().externalAddress).toBe(`${n.opts.transport.address}:${n.port}`);
    await net.stopAll();
  });
});

describe("DHT security on the in-memory hub", () => {
  test("replies to an unverified address are never larger than the request", async () => {
    const net = await network(25);
    await net.run(Promise.all(net.nodes.slice(0, 8).map((n, i) => n.announce("r", { peerPort: 1, rttMs: i, hops: 1 }))));
    const holder = net.nodes.find((n) => n.localAnnouncements("r").length > 0)!;
    const raw = rawPeer(net);
    const req = raw.send(holder, { type: MsgType.FIND_VALUE, kind: RecordKind.ANNOUNCEMENT, key: keyOf("router", "r") }, { flags: Flag.WANT_PROOF });
    await net.clock.advance(100);
    const first = raw.replyTo(req)!;
    expect(first.bytes.length).toBeLessThanOrEqual(req.length);
    expect(first.packet.flags & Flag.TRUNCATED).toBe(Flag.TRUNCATED);
    // With the token from that reply, the address is verified and the full list comes back.
    const req2 = raw.send(holder, { type: MsgType.FIND_VALUE, kind: RecordKind.ANNOUNCEMENT, key: keyOf("router", "r") }, { token: first.packet.token });
    await net.clock.advance(100);
    const second = raw.replyTo(req2)!;
    expect(second.packet.body.type).toBe(MsgType.VALUE);
    if (second.packet.body.type === MsgType.VALUE) expect(second.packet.body.records.length).toBe(8);
    expect(second.bytes.length).toBeGreaterThan(req2.length);
    expect(second.bytes.length).toBeLessThanOrEqual(MAX_DATAGRAM);
    // A forged token is worth nothing: the reply stays within the request's size.
    const req3 = raw.send(holder, { type: MsgType.FIND_NODE, target: randomId() }, { token: new Uint8Array(8).fill(7) });
    await net.clock.advance(100);
    expect(raw.replyTo(req3)!.bytes.length).toBeLessThanOrEqual(req3.length);
    expect(req3.length).toBe(HEADER_BYTES + 20);
    await net.stopAll();
  });

  test("unsigned, forged, stale and replayed records are refused and counted; STOREs need a token", async () => {
    const net = await network(3);
    const target = net.nodes[1]!;
    const raw = rawPeer(net);
    const mallory = generateIdentity();
    const name = keyOf("value", "x");
    const key = valueKey(mallory.nodeId, name);
    const expiresAt = Math.floor(net.clock.now() / 1000) + 600;
    const good = signRecord(mallory, RecordKind.VALUE, key, { seq: 5, expiresAt, payload: valuePayload(name, new Uint8Array([1])) });
    let token = zeroToken();
    const send = async (record: typeof good, at = key) => {
      const req = raw.send(target, { type: MsgType.STORE, kind: RecordKind.VALUE, key: at, record }, { token });
      await net.clock.advance(50);
      const p = raw.replyTo(req)!.packet;
      token = p.token;
      return p.body.type === MsgType.STORED ? p.body.status : -1;
    };
    expect(await send(good)).toBe(StoreStatus.NO_TOKEN); // no token yet: come back with this reply's
    expect(target.counters.dropped.storeNoToken).toBe(1);
    expect(await send({ ...good, signature: new Uint8Array(64) })).toBe(StoreStatus.REJECTED); // unsigned
    expect(await send({ ...good, payload: valuePayload(name, new Uint8Array([2])) })).toBe(StoreStatus.REJECTED); // altered
    const foreign = signRecord(mallory, RecordKind.VALUE, valueKey(target.id, name), { seq: 2 ** 48 - 1, expiresAt, payload: valuePayload(name, new Uint8Array([3])) });
    expect(await send(foreign, valueKey(target.id, name))).toBe(StoreStatus.REJECTED); // under another publisher's key
    expect(target.counters.dropped.badRecord).toBe(3);
    expect(await send(good)).toBe(StoreStatus.STORED);
    expect(await send(good)).toBe(StoreStatus.UNCHANGED); // replay of the same record
    const older = signRecord(mallory, RecordKind.VALUE, key, { seq: 4, expiresAt, payload: valuePayload(name, new Uint8Array([9])) });
    expect(await send(older)).toBe(StoreStatus.STALE);
    expect(target.counters.dropped.staleRecord).toBe(1);
    await net.stopAll();
  });

  test("a sender without a valid token draws one small reply and nothing else; with one it must prove its id", async () => {
    const net = await network(3);
    const target = net.nodes[1]!;
    const seen: string[] = [];
    target.onAddress((a) => seen.push(a));
    const raw = rawPeer(net);
    const first = raw.send(target, { type: MsgType.PING }, { padTo: 45 });
    await net.clock.advance(5000);
    expect(raw.got.length).toBe(1); // the PONG: no proof ping, no trace of an address that may be spoofed
    expect(seen).not.toContain(raw.ep.address);
    raw.send(target, { type: MsgType.FIND_NODE, target: randomId() }, { token: raw.replyTo(first)!.packet.token });
    await net.clock.advance(5000);
    // Its address is verified now: the node asked the stranger for a proof (a PING with WANT_PROOF) and,
    // without an answer, kept it out.
    const challenges = raw.got.filter((g) => g.packet.body.type === MsgType.PING && g.packet.flags & Flag.WANT_PROOF);
    expect(challenges.length).toBeGreaterThan(0);
    expect(seen).toContain(raw.ep.address);
    expect(target.peers().some((p) => p.address === raw.ep.address)).toBe(false);
    await net.stopAll();
  });

  test("a request proof bound to the receiver and the sender's token gets it in; forged or replayed ones do not", async () => {
    const net = await network(3);
    const [target, other] = [net.nodes[1]!, net.nodes[2]!];
    const raw = rawPeer(net);
    const who = generateIdentity();
    const ping = raw.send(target, { type: MsgType.PING }, { padTo: 45, sender: who.nodeId });
    await net.clock.advance(50);
    const token = raw.replyTo(ping)!.packet.token;
    const rid = new Uint8Array(8).fill(3);
    const body: Body = { type: MsgType.FIND_NODE, target: randomId() };
    // Forged: signed by another key than the one behind the claimed id.
    const forged = encode({ flags: 0, rid, sender: who.nodeId, token, proof: makeRequestProof(generateIdentity(), rid, target.id, token), body });
    raw.ep.send(forged, target.opts.transport.address, target.port);
    await net.clock.advance(50);
    expect(raw.replyTo(forged)).toBeUndefined();
    expect(target.counters.dropped.badProof).toBe(1);
    // Genuine: answered, and the sender enters the table at once, no verification ping needed.
    const good = encode({ flags: 0, rid, sender: who.nodeId, token, proof: makeRequestProof(who, rid, target.id, token), body });
    raw.ep.send(good, target.opts.transport.address, target.port);
    await net.clock.advance(50);
    expect(raw.replyTo(good)).toBeDefined();
    expect(target.peers().some((p) => p.id === toHex(who.nodeId) && p.address === raw.ep.address)).toBe(true);
    expect(raw.got.some((g) => g.packet.body.type === MsgType.PING)).toBe(false);
    // Replayed from another address, or at another node: the token is not theirs, the id goes nowhere.
    const mallory = rawPeer(net);
    mallory.ep.send(good, target.opts.transport.address, target.port);
    mallory.ep.send(good, other.opts.transport.address, other.port);
    await net.clock.advance(50);
    for (const n of [target, other]) expect(n.peers().some((p) => p.address === mallory.ep.address)).toBe(false);
    await net.stopAll();
  });

  test("a stranger's first query draws a request for its proof, and it proves itself at once: the node keeps it", async () => {
    const net = await network(3);
    const target = net.nodes[1]!;
    const stranger = await net.addNode(null); // knows nobody, and nobody knows it
    const r = await net.run(stranger.request({ address: target.opts.transport.address, port: target.port }, { type: MsgType.FIND_NODE, target: randomId() }));
    expect(r.ok && r.packet.flags & Flag.WANT_PROOF).toBe(Flag.WANT_PROOF);
    await net.clock.advance(100);
    expect(target.peers().some((p) => p.id === stranger.nodeId)).toBe(true);
    await net.stopAll();
  });

  test("a flood from one address is rate limited and counted", async () => {
    const net = await network(2);
    const target = net.nodes[1]!;
    const raw = rawPeer(net);
    for (let i = 0; i < 1000; i++) raw.send(target, { type: MsgType.PING }, { padTo: 100 });
    await net.clock.advance(50);
    expect(target.counters.dropped.rateLimited).toBeGreaterThan(400);
    expect(raw.got.filter((g) => g.packet.body.type === MsgType.PONG).length).toBeLessThan(600);
    await net.stopAll();
  });
});

describe("DHT state in the data dir", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test("a node alone keeps its own values across a restart", async () => {
    const net = new SimNetwork({ seed: 9 });
    const dir = await mkdtemp(join(tmpdir(), "icon-dht-"));
    dirs.push(dir);
    const identity = generateIdentity();
    const statePath = join(dir, "dht.json");
    const first = new Dht({ identity, transport: net.hub.endpoint("10.9.9.8", 4100), clock: net.clock, statePath });
    await first.start();
    expect((await net.run(first.put("solo", "kept"))).replicas).toBe(1);
    await first.stop();
    const again = new Dht({ identity, transport: net.hub.endpoint("10.9.9.8", 4101), clock: net.clock, statePath });
    await again.start();
    await net.clock.advance(10);
    const r = await net.run(again.get("solo"));
    expect(r && new TextDecoder().decode(r.value)).toBe("kept");
    await again.stop();
  });

  test("a restarted node rejoins through its saved neighbours, without a bootstrap", async () => {
    const net = await network(8);
    const dir = await mkdtemp(join(tmpdir(), "icon-dht-"));
    dirs.push(dir);
    const identity = generateIdentity();
    const statePath = join(dir, "dht.json");
    const first = new Dht({ identity, transport: net.hub.endpoint("10.9.9.9", 4100), clock: net.clock, statePath, bootstrap: [{ address: net.nodes[0]!.opts.transport.address, port: 4100 }] });
    await first.start();
    await net.run(first.join());
    await net.run(first.put("mine", "survives restarts"));
    await first.stop();
    const saved = JSON.parse(await Bun.file(statePath).text());
    expect(saved.nodeId).toBe(first.nodeId);
    expect(saved.contacts.length).toBe(8);
    expect(saved.published.map((p: { name: string }) => p.name)).toEqual(["mine"]);

    const again = new Dht({ identity, transport: net.hub.endpoint("10.9.9.9", 4101), clock: net.clock, statePath });
    await again.start();
    expect(await net.run(again.join())).toBe(8);
    await net.clock.advance(1000);
    const r = await net.run(net.nodes[2]!.get("mine", { publisher: first.nodeId }));
    expect(r && new TextDecoder().decode(r.value)).toBe("survives restarts");
    await again.stop();
    await net.stopAll();
  });
});
