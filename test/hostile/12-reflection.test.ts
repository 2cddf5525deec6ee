/**
 * Finding 12: reflection. A node must never be a tool to flood someone else.
 * - NODES replies name contacts the node then queries, unverified: 20 contacts at one victim drew 20
 *   queries padded to 1232 bytes, each sent 3 times (a 560-byte reply became about 74 KB at the victim),
 *   and contacts in private ranges (the home LAN behind a node) were queried too.
 * - A request with a spoofed source drew id-proof pings and traceroutes towards the spoofed address.
 * The first attack runs on real UDP (the victim counts bytes on its own socket at 127.0.0.2); the others on
 * the in-memory hub, where a node can sit at a public address and a datagram can carry any source.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { RawDhtPeer, reflectThroughNodes, spoofedRequests } from "../../src/bench/hostile/dht-attacks.ts";
import { Dht } from "../../src/dht/dht.ts";
import { MemoryHub } from "../../src/dht/transport/memory-hub.ts";
import { UdpTransport } from "../../src/dht/transport/udp.ts";
import { generateIdentity } from "../../src/identity/identity.ts";
import { FakeClock } from "../../src/util/clock.ts";
import { endpointOf, udpNodes } from "./support/dht-nodes.ts";

const nodes = udpNodes();
const closers: { close(): void }[] = [];
afterEach(async () => {
  await nodes.stopAll();
  for (const c of closers.splice(0)) c.close();
});

describe("finding 12: reflection", () => {
  test("a NODES reply naming a victim 20 times draws a few small datagrams there, not 74 KB", async () => {
    const node = await nodes.node();
    const attacker = await RawDhtPeer.udp("127.0.0.1");
    const victim = await UdpTransport.open("127.0.0.2", 0);
    closers.push(attacker, victim);
    const report = await reflectThroughNodes({ attacker, target: endpointOf(node), victims: [victim], trigger: () => node.get("anything") });
    expect(report.detail.introduced).toBe(true);
    expect(report.detail.victimBytes).toBeLessThanOrEqual(4 * 700);
    expect(report.outcome).not.toBe("succeeded");
  }, 30_000);

  /** A node at a public address on the hub, on virtual time. */
  async function hubNode(address: string) {
    const clock = new FakeClock();
    const hub = new MemoryHub(clock);
    const node = new Dht({ identity: generateIdentity(), transport: hub.endpoint(address), clock });
    await node.start();
    const wait = (ms: number) => clock.advance(ms);
    closers.push({ close: () => void node.stop() });
    return { hub, clock, node, wait, target: endpointOf(node) };
  }

  test("contacts in private, loopback and reserved ranges are not queried by a node outside them", async () => {
    const { hub, node, wait, target } = await hubNode("80.0.0.1");
    const attacker = new RawDhtPeer(hub.endpoint("80.0.0.2"));
    const ranges = ["10.1.2.3", "172.16.5.5", "192.168.1.1", "100.64.0.1", "169.254.1.1", "127.0.0.1", "198.18.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1"];
    const victims = ranges.map((a) => hub.endpoint(a));
    const report = await reflectThroughNodes({ attacker, target, victims, trigger: () => Promise.race([node.get("anything"), wait(10)]), wait, settleMs: 10_000 });
    expect(report.detail.introduced).toBe(true);
    expect(report.detail.victimDatagrams).toBe(0);
    expect(report.outcome).toBe("refused");
  });

  test("a spoofed request draws its reply and nothing else: no proof pings, no traces of the address", async () => {
    const { hub, node, wait, target } = await hubNode("80.0.0.1");
    const seen = new Set<string>();
    node.onAddress((a) => seen.add(a));
    const victim = hub.endpoint("80.0.0.66");
    const report = await spoofedRequests({ target, victim, count: 10, harvested: () => seen.has("80.0.0.66"), wait });
    expect(report.detail.probes).toBe(0);
    expect(report.detail.harvested).toBe(false);
    expect(report.outcome).not.toBe("succeeded");
  });
});
