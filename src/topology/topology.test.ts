/**
 * The topology manager of three nodes on the thesis network, with scripted traces and an in-memory
 * directory: harvesting, announcing, finding the closest node, caching, and expiry.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { silentLogger } from "../log.ts";
import { FakeClock } from "../util/clock.ts";
import { MemoryDirectoryHub } from "./memory-directory.ts";
import { ScriptedTracer } from "./scripted-tracer.ts";
import { Topology, type TopologySettings } from "./topology.ts";

// Router i answers from 10.0.i.1 on one side and 10.0.i.2 on the other: one /29 per router.
const UD = "10.0.1.6", IEP1 = "10.0.7.6", IEP2 = "10.0.3.6", IEP3 = "10.0.6.5";
// announceSec 0.05: announcements live 150 ms, lookups are cached 50 ms (config allows ≥ 5 s).
const SETTINGS: TopologySettings = { routerMask: 29, clientPrefix: 24, traceCacheSec: 60, traceConcurrency: 2, maxTtl: 30, announceSec: 0.05 };

/** The nodes' RTTs to each other, as their DHTs measure them. */
const RTT: Record<string, number> = { [`${IEP1}|${IEP2}`]: 102, [`${IEP1}|${IEP3}`]: 22, [`${IEP2}|${IEP3}`]: 84 };

function network(settings = SETTINGS) {
  const hub = new MemoryDirectoryHub();
  hub.rtt = (a, b) => RTT[`${a}|${b}`] ?? RTT[`${b}|${a}`];
  const make = (nodeId: string, address: string, tracer: ScriptedTracer) => {
    const directory = hub.node({ nodeId, address });
    directories.push(directory);
    const topology = new Topology({ tracer, directory, settings, log: silentLogger, isSelf: (ip) => ip === address });
    return { directory, topology, tracer };
  };
  const iep1 = make("iep1", IEP1, new ScriptedTracer()
    .route(UD, [["10.0.7.1", 2], ["10.0.6.1", 20], ["10.0.5.1", 60], ["10.0.4.1", 80], ["10.0.2.1", 90], ["10.0.1.1", 91], [UD, 92]])
    .route(IEP2, [["10.0.7.1", 2], ["10.0.6.1", 20], ["10.0.5.1", 60], ["10.0.4.1", 80], ["10.0.2.1", 90], ["10.0.3.1", 100], [IEP2, 102]]));
  const iep2 = make("iep2", IEP2, new ScriptedTracer()
    .route(IEP1, [["10.0.3.2", 2], ["10.0.2.2", 12], ["10.0.4.2", 22], ["10.0.5.2", 42], ["10.0.6.2", 82], ["10.0.7.2", 100], [IEP1, 102]]));
  const iep3 = make("iep3", IEP3, new ScriptedTracer()
    .route(IEP2, [["10.0.6.3", 2], ["10.0.5.2", 42], ["10.0.4.2", 62], ["10.0.2.2", 72], ["10.0.3.2", 82], [IEP2, 84]]));
  return { hub, iep1, iep2, iep3, all: [iep1, iep2, iep3] };
}

let running: Topology[] = [];
let directories: { stop(): void }[] = [];
afterEach(async () => {
  await Promise.all(running.map((t) => t.stop()));
  for (const d of directories) d.stop();
  running = [];
  directories = [];
});

async function warmUp(net: ReturnType<typeof network>) {
  for (const n of net.all) {
    n.topology.start();
    running.push(n.topology);
  }
  // DHT traffic between the nodes brings their addresses in
  net.iep2.directory.sawAddress(IEP1);
  net.iep3.directory.sawAddress(IEP2);
  net.iep1.directory.sawAddress(IEP2);
  await Bun.sleep(120); // traces, then announcements batched after 50 ms
}

/**
 * The same network dual stack (testbed numbering: router i's /64 is 2d00:1c0:0:i::), and a client that
 * has only IPv6. IEP2 traced IEP1 over IPv6 and announced the /64s; IEP3 has no IPv6 address.
 */
describe("an IPv6-only client", () => {
  const v6 = (i: number, host = 1) => `2d00:1c0:0:${i}::${host}`;
  const UD6 = "2d00:1c0:1:1::10", IEP1_6 = "2d00:1c0:1:2::10", IEP2_6 = "2d00:1c0:1:3::10";
  test("is sent to the node with an IPv6 address, at that address, through the routers' /64s", async () => {
    const hub = new MemoryDirectoryHub();
    hub.rtt = (a, b) => RTT[`${a}|${b}`] ?? RTT[`${b}|${a}`];
    const node = (nodeId: string, address: string, address6: string | undefined, tracer: ScriptedTracer) => {
      const directory = hub.node({ nodeId, address, ...(address6 ? { address6 } : {}) });
      directories.push(directory);
      const topology = new Topology({ tracer, directory, settings: SETTINGS, log: silentLogger, isSelf: (ip) => ip === address || ip === address6 });
      topology.start();
      running.push(topology);
      return { directory, topology };
    };
    const iep1 = node("iep1", IEP1, IEP1_6, new ScriptedTracer()
      .route(UD6, [[v6(7), 2], [v6(6), 20], [v6(5), 60], [v6(4), 80], [v6(2), 90], [v6(1), 91], [UD6, 92]]));
    const iep2 = node("iep2", IEP2, IEP2_6, new ScriptedTracer()
      .route(IEP1_6, [[v6(3, 2), 2], [v6(2, 2), 12], [v6(4, 2), 22], [v6(5, 2), 42], [v6(6, 2), 82], [v6(7, 2), 100], [IEP1_6, 102]]));
    // IEP3 announced the same routers, but only an IPv4 address: no use to this client
    const iep3 = node("iep3", IEP3, undefined, new ScriptedTracer()
      .route(IEP2_6, [[v6(6, 3), 2], [v6(5, 2), 42], [v6(4, 2), 62], [v6(2, 2), 72], [v6(3, 2), 82], [IEP2_6, 84]]));
    iep2.directory.sawAddress(IEP1_6);
    iep3.directory.sawAddress(IEP2_6);
    await Bun.sleep(120);
    const a = await iep1.topology.closest(UD6);
    expect(a.selfRttMs).toBe(92);
    expect(a.candidates.map((c) => c.nodeId)).toEqual(["iep2"]);
    expect(a.candidates[0]).toMatchObject({ address: IEP2_6, estimatedRttMs: 14, via: "2d00:1c0:0:2::/64" });
    expect(hub.routers.get("2d00:1c0:0:2::/64")?.has("iep3")).toBe(true); // announced, and plausible (72 ms), but IPv4 only
    expect(iep1.topology.traces.keyOf(UD6)).toBe("2d00:1c0:1:1::/64");
  });

  test("a node met over IPv4 is traced over IPv6 too, once it is announced under a router of this node", async () => {
    const hub = new MemoryDirectoryHub();
    const origin = hub.node({ nodeId: "iep1", address: IEP1, address6: IEP1_6 });
    directories.push(origin);
    await origin.announce("10.0.3.0/29", { rttMs: 100, hops: 6, timestamp: 1 }, 60_000);
    // The DHT's store: this node holds the keys of its routers (dht-directory.ts localLookup).
    const directory = Object.assign(hub.node({ nodeId: "iep2", address: IEP2, address6: IEP2_6 }), {
      localLookup: (routerId: string) => [...(hub.routers.get(routerId)?.values() ?? [])],
    });
    directories.push(directory);
    const tracer = new ScriptedTracer()
      .route(IEP1, [["10.0.3.2", 2], [IEP1, 102]])
      .route(IEP1_6, [[v6(3, 2), 2], [IEP1_6, 102]]);
    const topology = new Topology({ tracer, directory, settings: SETTINGS, log: silentLogger, isSelf: (ip) => ip === IEP2 || ip === IEP2_6 });
    topology.start();
    running.push(topology);
    directory.sawAddress(IEP1); // DHT traffic over IPv4 only
    await Bun.sleep(50);
    expect(tracer.calls).toEqual([IEP1, IEP1_6]);
    expect(topology.map.get("2d00:1c0:0:3::/64")).toBeDefined();
  });
});

describe("Topology on the thesis network", () => {
  test("closest(UD) on IEP1 returns IEP2 first, estimated at 14 ms, then the far node", async () => {
    const net = network();
    await warmUp(net);
    const a = await net.iep1.topology.closest(UD);
    expect(a.client).toBe(UD);
    expect(a.selfRttMs).toBe(92);
    expect(a.reached).toBe(true);
    expect(a.candidates.map((c) => c.nodeId)).toEqual(["iep2", "iep3"]);
    expect(a.candidates[0]).toMatchObject({ address: IEP2, peerPort: 4101, estimatedRttMs: 14, via: "10.0.2.0/29" });
    expect(a.candidates[1]).toMatchObject({ estimatedRttMs: 74 }); // 72 at r2 + 2 from r2 to UD
    expect(a.cached).toBe(false);
  });

  test("a second ask is answered from the caches; another client of the /24 shares the trace", async () => {
    const net = network();
    await warmUp(net);
    await net.iep1.topology.closest(UD);
    const warm = await net.iep1.topology.closest(UD);
    expect(warm.cached).toBe(true);
    expect(warm.candidates[0]!.nodeId).toBe("iep2");
    const neighbour = await net.iep1.topology.closest("10.0.1.77");
    expect(neighbour.candidates[0]!.nodeId).toBe("iep2");
    expect(net.iep1.tracer.calls.filter((c) => c.startsWith("10.0.1."))).toEqual([UD]);
    const lookupsBefore = net.hub.lookups;
    const fresh = await net.iep1.topology.closest(UD, { fresh: true });
    expect(fresh.cached).toBe(false);
    expect(fresh.candidates[0]!.nodeId).toBe("iep2");
    expect(net.iep1.tracer.calls.filter((c) => c === UD)).toHaveLength(2);
    expect(net.hub.lookups - lookupsBefore).toBe(6); // each /29 of the path once (UD and r1 share one)
  });

  test("an urgent harvest at accept does the work, so closest() then waits for nothing", async () => {
    const net = network({ ...SETTINGS, announceSec: 5 }); // lookups stay cached 5 s
    await warmUp(net);
    net.iep1.tracer.timeScale = 0.2; // a 92 ms RTT plays back in 18 ms
    net.hub.lookupDelayMs = 5;
    net.iep1.topology.harvest(UD, { urgent: true });
    await Bun.sleep(60);
    const lookupsBefore = net.hub.lookups;
    const a = await net.iep1.topology.closest(UD);
    expect(a.cached).toBe(true);
    expect(net.hub.lookups).toBe(lookupsBefore);
    expect(a.candidates[0]!.nodeId).toBe("iep2");
    expect(net.iep1.tracer.calls.filter((c) => c === UD)).toHaveLength(1);
  });

  test("closest() during a prefetch joins it: one trace, one lookup per router, the prefetch's timeline", async () => {
    const net = network({ ...SETTINGS, announceSec: 5 });
    await warmUp(net);
    net.iep1.tracer.timeScale = 0.2;
    net.hub.lookupDelayMs = 5;
    const lookupsBefore = net.hub.lookups;
    const prefetched = net.iep1.topology.finder.prefetch(UD);
    await Bun.sleep(5); // the trace is under way
    const a = await net.iep1.topology.closest(UD);
    await prefetched;
    expect(net.iep1.tracer.calls.filter((c) => c === UD)).toHaveLength(1);
    expect(net.hub.lookups - lookupsBefore).toBe(6);
    expect(a.candidates[0]!.nodeId).toBe("iep2");
    const t = a.timeline;
    expect(t.by).toBe("prefetch");
    expect(t.trace!.hops.map((h) => h.ttl)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(t.trace!.endMs).toBeGreaterThanOrEqual(t.trace!.hops.at(-1)!.atMs);
    // each router's lookup starts when its hop answers (the client's own /29 at once), none waits for the trace's end
    const r5 = t.lookups.find((l) => l.routerId === "10.0.5.0/29")!;
    expect(r5.startMs).toBeGreaterThanOrEqual(t.trace!.hops[2]!.atMs);
    expect(r5.startMs).toBeLessThan(t.trace!.endMs);
    expect(t.lookups.find((l) => l.routerId === "10.0.1.0/29")!.startMs).toBeLessThanOrEqual(t.trace!.hops[0]!.atMs);
    expect(t.measures.map((m) => m.nodeId).sort()).toEqual(["iep2", "iep3"]);
    expect(t.rankedMs).toBeGreaterThanOrEqual(Math.max(...t.lookups.map((l) => l.endMs)));
  });

  test("announcements of a stopped node expire and it no longer appears", async () => {
    const net = network();
    await warmUp(net);
    expect((await net.iep1.topology.closest(UD)).candidates.map((c) => c.nodeId)).toEqual(["iep2", "iep3"]);
    await net.iep2.topology.stop();
    net.iep2.directory.stop(); // the node's DHT stops republishing
    await Bun.sleep(250); // lifetime 150 ms, lookups cached 50 ms; iep3 keeps refreshing
    const after = await net.iep1.topology.closest(UD);
    expect(after.candidates.map((c) => c.nodeId)).toEqual(["iep3"]);
  });

  test("each node announces every router it has seen, with its own RTT and hops", async () => {
    const net = network();
    await warmUp(net);
    const at = (r: string) => [...(net.hub.routers.get(r)?.values() ?? [])].map((a) => [a.nodeId, a.rttMs, a.hops]).sort();
    expect(at("10.0.2.0/29")).toEqual([["iep1", 90, 5], ["iep2", 12, 2], ["iep3", 72, 4]]);
    expect(at("10.0.3.0/29")).toEqual([["iep1", 100, 6], ["iep2", 2, 1], ["iep3", 82, 5]]);
    const snap = net.iep2.topology.snapshot();
    expect(snap.routers.map((r) => r.routerId)).toEqual(["10.0.3.0/29", "10.0.2.0/29", "10.0.4.0/29", "10.0.5.0/29", "10.0.6.0/29", "10.0.7.0/29"]);
    expect(snap.routers.every((r) => r.announcedAt !== undefined)).toBe(true);
    expect(snap.harvest.traced).toBe(1);
  });

  test("harvesting skips own addresses, bad input, and prefixes already traced", async () => {
    const net = network();
    const t = net.iep1.topology;
    running.push(t);
    t.start();
    for (const ip of [IEP1, "not-an-ip", "224.0.0.1", "0.0.0.0"]) net.iep1.directory.sawAddress(ip);
    expect(t.harvester.status()).toMatchObject({ queued: 0, running: 0 });
    net.iep1.directory.sawAddress(IEP2);
    net.iep1.directory.sawAddress("10.0.3.9"); // same /24, queued or in flight already
    await Bun.sleep(10);
    expect(net.iep1.tracer.calls).toEqual([IEP2]);
  });

  test("background traces run at most traceConcurrency at once", async () => {
    const tracer = new ScriptedTracer();
    tracer.timeScale = 1;
    for (let i = 1; i <= 6; i++) tracer.route(`10.1.${i}.1`, [["10.9.9.1", 5], [`10.1.${i}.1`, 10]]);
    const hub = new MemoryDirectoryHub();
    const t = new Topology({ tracer, directory: hub.node({ nodeId: "n", address: "10.8.8.8" }), settings: SETTINGS, log: silentLogger, isSelf: () => false });
    running.push(t);
    for (let i = 1; i <= 6; i++) t.harvest(`10.1.${i}.1`);
    await Bun.sleep(60);
    expect(tracer.calls).toHaveLength(6);
    expect(tracer.maxRunning).toBe(2);
    expect(t.map.routers().map((r) => r.routerId)).toEqual(["10.9.9.0/29"]);
  });
});

describe("confirming traces", () => {
  test("a new destination is traced twice more soon after; the map keeps the smallest RTT and re-announces it", async () => {
    const clock = new FakeClock();
    const hub = new MemoryDirectoryHub();
    hub.now = () => clock.now();
    const tracer = new ScriptedTracer().route(IEP1, [["10.0.3.2", 12.4], [IEP1, 102]]); // a busy moment
    const directory = hub.node({ nodeId: "iep2", address: IEP2 });
    const t = new Topology({ tracer, directory, settings: { ...SETTINGS, announceSec: 300 }, log: silentLogger, isSelf: () => false, clock });
    t.start();
    t.harvest(IEP1);
    await clock.advance(100);
    expect(hub.routers.get("10.0.3.0/29")?.get("iep2")?.rttMs).toBe(12.4);
    tracer.route(IEP1, [["10.0.3.2", 2.3], [IEP1, 102]]);
    await clock.advance(2_000);
    expect(tracer.calls).toEqual([IEP1, IEP1]);
    expect(t.map.get("10.0.3.0/29")!.rttMs).toBe(2.3);
    expect(hub.routers.get("10.0.3.0/29")?.get("iep2")?.rttMs).toBe(2.3);
    await clock.advance(10_000);
    expect(tracer.calls).toHaveLength(3);
    await clock.advance(60_000);
    expect(tracer.calls).toHaveLength(3); // then only when the trace ages out
    await clock.run(t.stop());
    directory.stop();
  });
});
