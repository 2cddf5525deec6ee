/**
 * Finding 4: migration capture through announcements. An announcement's RTT is whatever its node claims,
 * lists were ranked by it, and the finder never checked it; node ids next to a router's key are cheap to
 * grind. Here an attacker grinds an id sharing 12 bits with the key of router R (the last router before a
 * client), joins, and announces that it is 0.5 ms from R, while an honest node near R announces 10 ms.
 * Real DHT nodes on the in-memory hub (virtual time, with the delays of the picture below); the finder
 * runs over the real DHT with a scripted trace of the client.
 *
 *   finder node F ──20 ms──▶ R ──2.5 ms──▶ client          (RTTs)
 *                            R ──10 ms──▶ honest node H     (F to H: 30 ms, through R)
 *   F ◀──4 ms───▶ attacker A (16 ms or more from R, claims 0.5 ms)
 */
import { afterEach, expect, test } from "bun:test";
import { forgeAnnouncement, groundIdentity, routerKey } from "../../src/bench/hostile/announce-capture.ts";
import { Dht } from "../../src/dht/dht.ts";
import { SimNetwork } from "../../src/dht/sim/network.ts";
import type { LinkModel } from "../../src/dht/transport/memory-hub.ts";
import { silentLogger } from "../../src/log.ts";
import { DhtDirectory } from "../../src/topology/dht-directory.ts";
import { ScriptedTracer } from "../../src/topology/scripted-tracer.ts";
import { Topology } from "../../src/topology/topology.ts";

const F = "10.0.1.1", H = "10.0.2.1", A = "10.9.9.9", CLIENT = "10.7.7.10";
const ROUTER = "10.7.7.1", ROUTER_ID = "10.7.7.0/29";
/** One-way delays between the nodes that matter; every other pair 10 ms. */
const ONE_WAY: Record<string, number> = { [`${F}|${H}`]: 15, [`${F}|${A}`]: 2 };
const links: LinkModel = { delayMs: (a, b) => ONE_WAY[`${a}|${b}`] ?? ONE_WAY[`${b}|${a}`] ?? 10, loss: () => 0 };

let net: SimNetwork | undefined;
afterEach(async () => {
  await net?.stopAll();
  net = undefined;
});

test("a ground id next to a router's key with a forged low RTT is not ranked first by the finder", async () => {
  net = new SimNetwork({ links, seed: 4 });
  await net.grow(24, 5);
  const [f, h] = [net.nodes[0]!, net.nodes[1]!];
  expect([f.opts.transport.address, h.opts.transport.address]).toEqual([F, H]);
  const attacker = new Dht({ identity: groundIdentity(routerKey(ROUTER_ID), 12), transport: net.hub.endpoint(A), clock: net.clock, bootstrap: [{ address: H, port: h.port }] });
  net.nodes.push(attacker);
  await attacker.start();
  await net.run(attacker.join());
  await net.run(f.join()); // the finder's node meets the newcomer (and measures its RTT)
  await net.run(h.announce(ROUTER_ID, { peerPort: 4101, rttMs: 10, hops: 1 }));

  const tracer = new ScriptedTracer().route(CLIENT, [["10.0.5.1", 8], [ROUTER, 20], [CLIENT, 22.5]]);
  const settings = { routerMask: 29, clientPrefix: 24, traceCacheSec: 60, traceConcurrency: 2, maxTtl: 30, announceSec: 60 };
  const topology = new Topology({ tracer, directory: new DhtDirectory(f, () => 4101), settings, log: silentLogger, clock: net.clock, isSelf: (ip) => ip === F });
  const candidates = async () => (await net!.run(topology.closest(CLIENT, { fresh: true }))).candidates.map((c) => c.nodeId);
  expect(await candidates()).toEqual([h.nodeId]); // before the attack: the honest node, estimated at 12.5 ms

  const report = await forgeAnnouncement({ attacker, routerId: ROUTER_ID, rttMs: 0.5, peerPort: 4101, candidates, run: (p) => net!.run(p) });
  expect(report.detail.stored).toBeGreaterThan(0);
  expect(report.outcome).not.toBe("succeeded");
  expect((await candidates())[0]).toBe(h.nodeId);
  await net.run(topology.stop());
}, 30_000);
