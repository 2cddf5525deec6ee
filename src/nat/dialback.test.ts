import { afterEach, expect, test } from "bun:test";
import { Dht } from "../dht/dht.ts";
import { UdpTransport } from "../dht/transport/udp.ts";
import { generateIdentity } from "../identity/identity.ts";
import { endpointOf, loopbackNetworks } from "../../test/support/peers.ts";
import { askDialback, DialbackVerifier, OP_DIALBACK } from "./dialback.ts";

const nets = loopbackNetworks();
const dhts: Dht[] = [];
afterEach(async () => {
  await nets.stopAll();
  for (const d of dhts.splice(0)) await d.stop();
});

/** A node with a DHT and a peer network on loopback (IPv4, IPv6 ::1, or both), under one identity. */
async function node(stack: "v4" | "v6" | "dual" = "v4") {
  const identity = generateIdentity();
  const transport = await (stack === "v6" ? UdpTransport.open("::1", 0) : UdpTransport.open("127.0.0.1", 0, stack === "dual" ? "::1" : undefined));
  const dht = new Dht({ identity, transport });
  await dht.start();
  dhts.push(dht);
  const six = stack === "v6" ? { listen: "::1", advertisedAddress: () => "::1" } : stack === "dual" ? { listen6: "::1" } : {};
  return { identity, dht, net: await nets.network(identity, undefined, six) };
}

async function verifier(stack: "v4" | "dual" = "v4") {
  const v = await node(stack);
  const dialback = new DialbackVerifier({ identity: v.identity, network: v.net, bind: (f) => (f === 6 ? "::1" : "127.0.0.1") });
  v.net.handle(OP_DIALBACK, dialback.handle);
  return { ...v, dialback };
}

test("a verifier dials back both ports at the address the request came from, and each must prove the node", async () => {
  const v = await verifier();
  const me = await node();
  const conn = await me.net.connect(endpointOf(v.net));
  expect(await askDialback(conn, { dhtPort: me.dht.port, peerPort: me.net.port })).toEqual({ observed: "127.0.0.1", dht: true, peer: true });

  // Ports where another node answers (or nothing does) do not count for this one.
  const other = await node();
  expect(await askDialback(conn, { dhtPort: other.dht.port, peerPort: other.net.port })).toEqual({ observed: "127.0.0.1", dht: false, peer: false });
  const silent = await UdpTransport.open("127.0.0.1", 0);
  expect((await askDialback(conn, { dhtPort: silent.port, peerPort: me.net.port }))?.dht).toBe(false);
  silent.close();
}, 20_000);

test("the dial-back is rate limited per /24, and refuses ports that are not ports", async () => {
  const v = await verifier();
  const me = await node();
  const conn = await me.net.connect(endpointOf(v.net));
  const ports = { dhtPort: me.dht.port, peerPort: me.net.port };
  for (let i = 0; i < 3; i++) expect(await askDialback(conn, ports)).toBeDefined();
  expect(await askDialback(conn, ports)).toBeUndefined();
  expect(v.dialback.refused).toBe(1);
  expect(conn.request(OP_DIALBACK, { dhtPort: 0, peerPort: 70000 })).rejects.toThrow("dhtPort and a peerPort");
}, 20_000);

test("over IPv6 the verifier dials back the IPv6 address the request came from", async () => {
  const v = await verifier("dual");
  const me = await node("v6");
  const conn = await me.net.connect({ nodeId: v.net.nodeId, address: "::1", port: v.net.port });
  expect(await askDialback(conn, { dhtPort: me.dht.port, peerPort: me.net.port })).toEqual({ observed: "::1", dht: true, peer: true });
  const other = await node("v6");
  expect(await askDialback(conn, { dhtPort: other.dht.port, peerPort: other.net.port })).toEqual({ observed: "::1", dht: false, peer: false });
}, 20_000);
