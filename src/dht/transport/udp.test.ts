import { expect, test } from "bun:test";
import { generateIdentity } from "../../identity/identity.ts";
import { Dht } from "../dht.ts";
import { UdpTransport } from "./udp.ts";

test("datagrams travel between two sockets on loopback", async () => {
  const [a, b] = [await UdpTransport.open("127.0.0.1", 0), await UdpTransport.open("127.0.0.1", 0)];
  const got = new Promise<[number[], string, number]>((resolve) => b.onDatagram((d, addr, port) => resolve([[...d], addr, port])));
  a.send(new Uint8Array([7, 8, 9]), "127.0.0.1", b.port);
  expect(await got).toEqual([[7, 8, 9], "127.0.0.1", a.port]);
  a.close();
  b.close();
});

test("an ICMP error from a stopped peer is counted, not thrown or printed, and the node's status shows it", async () => {
  const a = await UdpTransport.open("127.0.0.1", 0);
  const node = new Dht({ identity: generateIdentity(), transport: a });
  const gone = await UdpTransport.open("127.0.0.1", 0);
  const port = gone.port;
  gone.close();
  a.send(new Uint8Array([1]), "127.0.0.1", port);
  for (let i = 0; i < 50 && a.receiveErrors === 0; i++) await Bun.sleep(10);
  expect(a.receiveErrors).toBeGreaterThan(0);
  expect(node.status().socketErrors).toEqual({ send: 0, receive: a.receiveErrors });
  a.close();
});

test("DHT nodes join, put and get over IPv6 on loopback", async () => {
  const nodes: Dht[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const transport = await UdpTransport.open("::1", 0);
      const bootstrap = nodes.length ? [{ address: "::1", port: nodes[0]!.port }] : [];
      const d = new Dht({ identity: generateIdentity(), transport, bootstrap });
      await d.start();
      nodes.push(d);
    }
    for (const d of nodes.slice(1)) expect(await d.join()).toBeGreaterThan(0);
    const report = await nodes[3]!.put("over six", "hello over IPv6");
    expect(report.ok).toBe(true);
    const got = await nodes[1]!.get("over six", { publisher: nodes[3]!.nodeId });
    expect(got && new TextDecoder().decode(got.value)).toBe("hello over IPv6");
    for (const p of nodes[1]!.peers()) expect(p.address).toBe("::1");
  } finally {
    for (const d of nodes) await d.stop();
  }
});

test("a dual-stack node answers over IPv4 and over IPv6 on one port", async () => {
  const dual = await UdpTransport.open("0.0.0.0", 0, "::");
  const hub = new Dht({ identity: generateIdentity(), transport: dual });
  await hub.start();
  const four = new Dht({ identity: generateIdentity(), transport: await UdpTransport.open("127.0.0.1", 0), bootstrap: [{ address: "127.0.0.1", port: hub.port }] });
  const six = new Dht({ identity: generateIdentity(), transport: await UdpTransport.open("::1", 0), bootstrap: [{ address: "::1", port: hub.port }] });
  try {
    await four.start();
    await six.start();
    const id = hub.nodeId;
    expect(await four.rttTo(id, { address: "127.0.0.1", port: hub.port })).toBeGreaterThan(0);
    expect(await six.rttTo(id, { address: "::1", port: hub.port })).toBeGreaterThan(0);
    // The hub saw each where it came from: plain IPv4 (not ::ffff:127.0.0.1) and IPv6.
    const seen = new Map(hub.peers().map((p) => [p.id, p.address]));
    for (let i = 0; i < 50 && seen.size < 2; i++) {
      await Bun.sleep(20);
      for (const p of hub.peers()) seen.set(p.id, p.address);
    }
    expect(seen.get(four.nodeId)).toBe("127.0.0.1");
    expect(seen.get(six.nodeId)).toBe("::1");
  } finally {
    for (const d of [four, six, hub]) await d.stop();
  }
});

test("two specific addresses: one socket per family on the same port; an IPv6 destination on an IPv4-only transport is counted", async () => {
  const t = await UdpTransport.open("127.0.0.1", 0, "::1");
  const v4 = await UdpTransport.open("127.0.0.1", 0);
  const got = new Promise<string>((resolve) => t.onDatagram((_d, addr) => resolve(addr)));
  v4.send(new Uint8Array([1]), "::1", t.port);
  expect(v4.sendErrors).toBe(1);
  const v6 = await UdpTransport.open("::1", 0);
  v6.send(new Uint8Array([2]), "::1", t.port);
  expect(await got).toBe("::1");
  expect(t.address6).toBe("::1");
  for (const x of [t, v4, v6]) x.close();
});
