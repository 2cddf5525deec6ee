/**
 * The topology manager on a network that numbers links, not routers (issue 14): each link its own /30, so
 * a router answers from a different /29 on each side. IEP1 and the client UD1 hang off the same access
 * router e3; IEP3 is three routers away. Scripted traces, an in-memory directory.
 */
import { afterEach, expect, test } from "bun:test";
import { silentLogger } from "../log.ts";
import { MemoryDirectoryHub } from "./memory-directory.ts";
import { ScriptedTracer } from "./scripted-tracer.ts";
import { Topology, type TopologySettings } from "./topology.ts";

const IEP1 = "10.1.1.10", IEP3 = "10.1.3.10", UD1 = "10.1.4.10";
const SETTINGS: TopologySettings = { routerMask: 29, clientPrefix: 24, traceCacheSec: 60, traceConcurrency: 2, maxTtl: 30, announceSec: 0.05 };

let stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stops) await stop();
  stops = [];
});

test("a node whose path leaves the client's at this node's first router is found and estimated along the traces", async () => {
  const hub = new MemoryDirectoryHub();
  hub.rtt = () => 53.6;
  const make = (nodeId: string, address: string, tracer: ScriptedTracer) => {
    const directory = hub.node({ nodeId, address });
    const topology = new Topology({ tracer, directory, settings: SETTINGS, log: silentLogger, isSelf: (ip) => ip === address });
    topology.start();
    stops.push(() => topology.stop(), () => directory.stop());
    return { directory, topology };
  };
  // links e3-a3 10.0.0.48/30, a3-c 10.0.0.8/30, c-e2 10.0.0.12/30; hosts' LANs their own /24s
  const iep1 = make("iep1", IEP1, new ScriptedTracer()
    .route(UD1, [["10.1.1.1", 4], [UD1, 4.8]])
    .route(IEP3, [["10.1.1.1", 4], ["10.0.0.50", 10.2], ["10.0.0.10", 39], ["10.0.0.14", 50], [IEP3, 53.6]]));
  const iep3 = make("iep3", IEP3, new ScriptedTracer()
    .route(IEP1, [["10.1.3.1", 3.6], ["10.0.0.13", 14.6], ["10.0.0.9", 43.4], ["10.0.0.49", 49.6], [IEP1, 53.6]]));
  iep1.directory.sawAddress(IEP3);
  iep3.directory.sawAddress(IEP1);
  await Bun.sleep(120); // traces, then announcements batched after 50 ms

  // IEP3 announced e3 under 10.0.0.48/29, the link behind it; the client's path is e3 under IEP1's LAN's /29
  const a = await iep1.topology.closest(UD1);
  expect(a.candidates).toEqual([{ nodeId: "iep3", address: IEP3, peerPort: 4101, estimatedRttMs: 50.4, via: "10.1.1.0/29" }]); // (53.6 - 4) + (4.8 - 4)
});
