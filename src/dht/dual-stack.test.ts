import { describe, expect, test } from "bun:test";
import { decode, encode, Flag, MsgType, zeroToken, type Body } from "./codec.ts";
import type { Dht } from "./dht.ts";
import { randomId } from "./id.ts";
import { SimNetwork } from "./sim/network.ts";
import { uniformLinks, type Stack } from "./transport/memory-hub.ts";
import { familyOf } from "../util/ipv6.ts";

/** 12 dual-stack nodes, 6 IPv4-only and 6 IPv6-only, each joining through a random node it can reach. */
async function mixed() {
  const net = new SimNetwork({ links: uniformLinks(10), seed: 14 });
  const stacks: Stack[] = ["dual", ...Array.from({ length: 23 }, (_, i): Stack => (i % 4 === 0 ? "v4" : i % 4 === 1 ? "v6" : "dual"))];
  const joins: Promise<number>[] = [];
  const by: Record<Stack, Dht[]> = { v4: [], v6: [], dual: [] };
  for (const s of stacks) {
    const d = await net.addNode(undefined, s);
    by[s].push(d);
    joins.push(d.join());
    await net.clock.advance(10);
  }
  await net.run(Promise.all(joins));
  await net.clock.advance(30_000);
  return { net, by };
}

const families = (d: Dht) => new Set(d.peers().map((p) => familyOf(p.address)));

describe("a dual-stack DHT on the in-memory hub", () => {
  test("single-stack nodes hold only contacts of their family; dual-stack nodes hold both", async () => {
    const { net, by } = await mixed();
    for (const d of by.v4) expect([...families(d)]).toEqual([4]);
    for (const d of by.v6) expect([...families(d)]).toEqual([6]);
    expect(by.dual.some((d) => families(d).size === 2)).toBe(true);
    for (const d of [...by.v4, ...by.v6]) expect(d.peers().length).toBeGreaterThanOrEqual(8);
    expect(net.hub.unroutable).toBe(0);
    await net.stopAll();
  });

  test("IPv6-only nodes put and get through the network; so do IPv4-only ones; dual-stack nodes read both", async () => {
    const { net, by } = await mixed();
    const [a6, b6] = by.v6;
    const [a4, b4] = by.v4;
    expect((await net.run(a6!.put("six", "over IPv6"))).ok).toBe(true);
    expect((await net.run(a4!.put("four", "over IPv4"))).ok).toBe(true);
    const read = async (d: Dht, key: string, publisher: Dht) => {
      const r = await net.run(d.get(key, { publisher: publisher.nodeId }));
      return r && new TextDecoder().decode(r.value);
    };
    expect(await read(b6!, "six", a6!)).toBe("over IPv6");
    expect(await read(b4!, "four", a4!)).toBe("over IPv4");
    for (const d of by.dual.slice(0, 4)) {
      expect(await read(d, "six", a6!)).toBe("over IPv6");
      expect(await read(d, "four", a4!)).toBe("over IPv4");
    }
    await net.stopAll();
  });

  test("a node learns its external address per family, and announces its IPv6 address besides IPv4", async () => {
    const { net, by } = await mixed();
    await net.clock.advance(120_000);
    for (const x of by.dual) {
      expect([undefined, x.opts.transport.address]).toContain(x.externalAddress()?.address);
      expect([undefined, x.opts.transport.address6]).toContain(x.externalAddress6()?.address);
    }
    const both = by.dual.filter((x) => x.externalAddress() && x.externalAddress6());
    expect(both.length).toBeGreaterThanOrEqual(by.dual.length / 2);
    const d = both[0]!;
    await net.run(d.announce("2d00:1c0:ff::/48", { peerPort: 4200, rttMs: 3, hops: 2 }));
    const [a] = await net.run(by.v6[2]!.findAnnouncements("2d00:1c0:ff::/48"));
    expect(a).toMatchObject({ nodeId: d.nodeId, address: d.opts.transport.address, address6: d.opts.transport.address6 });
    const six = by.v6[3]!;
    await net.run(six.announce("2d00:1c0:ff::/48", { peerPort: 4200, rttMs: 9, hops: 3 }));
    const reader = by.dual.find((x) => x !== d)!;
    const list = await net.run(reader.findAnnouncements("2d00:1c0:ff::/48"));
    expect(list.find((x) => x.nodeId === six.nodeId)).toMatchObject({ address: six.opts.transport.address });
    expect(list.find((x) => x.nodeId === six.nodeId)?.address6).toBeUndefined();
    await net.stopAll();
  });
});

describe("what a responder names", () => {
  test("a request over IPv4 draws IPv4 contacts only, over IPv6 IPv6 only, with DUAL_STACK both", async () => {
    const { net, by } = await mixed();
    const responder = by.dual.find((d) => families(d).size === 2)!;
    const raw = net.hub.host("dual", 9999);
    const got: Body[] = [];
    raw.onDatagram((bytes) => got.push(decode(bytes).body));
    const ask = async (to: string, flags: number) => {
      got.length = 0;
      const body: Body = { type: MsgType.FIND_NODE, target: randomId() };
      raw.send(encode({ flags, rid: new Uint8Array(8).fill(7), sender: randomId(), token: zeroToken(), body, padTo: 1232 }), to, responder.port);
      await net.clock.advance(100);
      const reply = got[0];
      if (reply?.type !== MsgType.NODES) throw new Error("no NODES reply");
      return new Set(reply.contacts.map((c) => familyOf(c.address)));
    };
    expect([...(await ask(responder.opts.transport.address, 0))]).toEqual([4]);
    expect([...(await ask(responder.opts.transport.address6!, 0))]).toEqual([6]);
    expect(await ask(responder.opts.transport.address, Flag.DUAL_STACK)).toEqual(new Set([4, 6]));
    await net.stopAll();
  });

  test("a datagram to a family the host lacks is lost and counted, never sent", async () => {
    const net = new SimNetwork({ seed: 3 });
    const v4 = net.hub.host("v4");
    const v6 = net.hub.host("v6");
    v4.send(new Uint8Array([1]), v6.address, v6.port);
    expect(v4.sendErrors).toBe(1);
    expect(net.hub.sent).toBe(0);
  });
});
