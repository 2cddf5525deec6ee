import { afterAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { installErrorHandler } from "../api/http.ts";
import { silentLogger } from "../log.ts";
import { renderClosest } from "../cli/commands/closest.ts";
import { renderTopology } from "../cli/commands/topology.ts";
import { MemoryDirectoryHub } from "./memory-directory.ts";
import { topologyRoutes } from "./routes.ts";
import { ScriptedTracer } from "./scripted-tracer.ts";
import type { ClosestAnswer } from "./finder.ts";
import { Topology, type TopologySettings } from "./topology.ts";

const SETTINGS: TopologySettings = { routerMask: 29, clientPrefix: 24, traceCacheSec: 600, traceConcurrency: 4, maxTtl: 30, announceSec: 300 };
const hub = new MemoryDirectoryHub();
hub.rtt = () => 102; // the edge: 12 ms past the router this node reaches in 90
const edge = hub.node({ nodeId: "edge", address: "10.9.0.2", peerPort: 4201 });
const tracer = new ScriptedTracer().route("10.1.1.10", [["10.0.0.1", 2], ["10.0.0.17", 90], ["10.1.1.10", 92]]);
const topology = new Topology({ tracer, directory: hub.node({ nodeId: "self", address: "10.9.0.1" }), settings: SETTINGS, log: silentLogger, isSelf: () => false });
const app = new Hono().route("/v1", topologyRoutes(() => topology, () => SETTINGS));
installErrorHandler(app);
afterAll(async () => {
  await topology.stop();
  edge.stop();
});

describe("topology routes", () => {
  test("GET /v1/closest ranks the nodes announced on the client's path", async () => {
    await edge.announce("10.0.0.16/29", { rttMs: 12, hops: 2, timestamp: 1 }, 60_000);
    const res = await app.request("/v1/closest?client=10.1.1.10");
    expect(res.status).toBe(200);
    const a = (await res.json()) as ClosestAnswer;
    expect(a).toMatchObject({ client: "10.1.1.10", selfRttMs: 92, reached: true, cached: false });
    expect(a.candidates).toEqual([{ nodeId: "edge", address: "10.9.0.2", peerPort: 4201, estimatedRttMs: 14, via: "10.0.0.16/29" }]);
    expect(renderClosest(a)).toContain("10.9.0.2:4201");
    expect(a.timeline.by).toBe("request");
    expect(renderClosest(a)).toMatch(/trace [\d.]+ ms; lookups \d+ local, \d+ cache, \d+ dht, the last \(10\.\d+\.\d+\.\d+\/29, \w+\) ended at [\d.]+ ms; 1 nodes measured/);
  });

  test("bad or missing client: 400 with the code and a fix", async () => {
    for (const q of ["?client=10.1.1", "?client=", ""]) {
      const res = await app.request(`/v1/closest${q}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; fix: unknown };
      expect(body.code).toBe("INVALID_INPUT");
      expect(typeof body.fix).toBe("string");
    }
  });

  test("GET /v1/topology shows the routers traced so far and the settings", async () => {
    await Bun.sleep(80); // the announcer's batch
    const t = (await (await app.request("/v1/topology")).json()) as Parameters<typeof renderTopology>[0];
    expect(t.settings.routerMask).toBe(29);
    expect(t.routers.map((r) => [r.routerId, r.hops])).toEqual([["10.0.0.0/29", 1], ["10.0.0.16/29", 2]]);
    expect(t.routers[0]!.announcedAt).toBeGreaterThan(0);
    expect(renderTopology(t)).toContain("10.0.0.16/29");
  });

  test("POST /v1/topology/flush forgets the cached traces and lookups: the next closest traces and looks up again", async () => {
    await app.request("/v1/closest?client=10.1.1.10");
    const warm = (await (await app.request("/v1/closest?client=10.1.1.10")).json()) as ClosestAnswer;
    expect(warm.cached).toBe(true);
    const udTraces = () => tracer.calls.filter((ip) => ip === "10.1.1.10").length;
    const traced = udTraces();
    const res = await app.request("/v1/topology/flush", { method: "POST" });
    // UD's /24 and the edge's (traced as a node announced under this node's router); the routers
    // 10.0.0.0/29, 10.0.0.16/29 and UD's own
    expect(await res.json()).toEqual({ traces: 2, lookups: 3 });
    const cold = (await (await app.request("/v1/closest?client=10.1.1.10")).json()) as ClosestAnswer;
    expect(cold.cached).toBe(false);
    expect(udTraces()).toBe(traced + 1);
    expect(cold.candidates.map((c) => c.nodeId)).toEqual(["edge"]);
  });

  test("POST /v1/topology/harvest queues a trace; bad bodies are refused", async () => {
    tracer.route("10.7.7.7", [["10.0.0.1", 2], ["10.7.7.7", 5]]);
    const ok = await app.request("/v1/topology/harvest", { method: "POST", body: JSON.stringify({ address: "10.7.7.7" }) });
    expect(await ok.json()).toEqual({ harvested: "10.7.7.7" });
    await Bun.sleep(5);
    expect(tracer.calls).toContain("10.7.7.7");
    for (const body of ["{}", '{"address": "nope"}', "[1]"]) {
      const res = await app.request("/v1/topology/harvest", { method: "POST", body });
      expect(res.status).toBe(400);
    }
  });
});
