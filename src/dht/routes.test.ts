import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { hc } from "hono/client";
import { readStream } from "../api/client.ts";
import { installErrorHandler } from "../api/http.ts";
import type { Dht } from "./dht.ts";
import type { DhtEvent } from "./events.ts";
import { dhtRoutes } from "./routes.ts";
import { SimNetwork } from "./sim/network.ts";
import { uniformLinks } from "./transport/memory-hub.ts";

/** A node's /v1/dht routes as the node mounts them, and the typed client over app.request (no socket). */
function api(node: Dht) {
  const app = new Hono().route("/v1/dht", dhtRoutes(() => node));
  installErrorHandler(app);
  return { app, client: hc<typeof app>("http://icon", { fetch: app.request }) };
}

let net: SimNetwork;
beforeAll(async () => {
  net = new SimNetwork({ links: uniformLinks(10), seed: 3 });
  await net.grow(12, 5);
});
afterAll(() => net.stopAll());

describe("DHT routes", () => {
  test("POST /v1/dht/put streams the stores, then the report; another node's /get finds the value", async () => {
    const a = api(net.nodes[0]!);
    const events: DhtEvent[] = [];
    const report = await net.run(readStream(a.client.v1.dht.put.$post({ json: { key: "greeting", value: "hallo" } }), (e) => events.push(e)));
    expect(report).toMatchObject({ key: "greeting", ok: true });
    expect(report.replicas).toBeGreaterThan(0);
    // Fewer nodes than k: the publisher is one of the closest and keeps a copy without a STORE.
    expect(events.filter((e) => e.type === "store" && e.ok).length).toBe(report.replicas - 1);
    expect(events.some((e) => e.type === "lookup-done")).toBe(true);

    const b = api(net.nodes[7]!);
    const got = await net.run(readStream(b.client.v1.dht.get.$post({ json: { key: "greeting", publisher: net.nodes[0]!.nodeId } })));
    expect(got).toMatchObject({ key: "greeting", value: "hallo", publisher: net.nodes[0]!.nodeId, source: "local" });
    expect(got.encoding).toBeUndefined();
  });

  test('POST /v1/dht/put with wait "all" answers once every closest node has answered, with both counts', async () => {
    const a = api(net.nodes[5]!);
    const events: DhtEvent[] = [];
    const report = await net.run(readStream(a.client.v1.dht.put.$post({ json: { key: "all-of-them", value: "v", wait: "all" } }), (e) => events.push(e)));
    const quorum = events.find((e) => e.type === "quorum");
    // Fewer nodes than k: the publisher is one of the closest; it waits for half of the others and its own copy.
    expect(quorum).toMatchObject({ replicas: report.replicas, targets: report.targets, quorum: Math.ceil((report.targets - 1) / 2) + 1 });
    expect(report.replicas).toBeGreaterThanOrEqual(report.quorum);
    const complete = report.complete!;
    expect(complete.targets).toBe(report.targets);
    expect(complete.replicas).toBe(events.filter((e) => e.type === "store" && e.ok).length + 1);
    expect(complete.ms).toBeGreaterThanOrEqual(report.ms);
    expect(events.at(-1)).toMatchObject({ type: "put-complete", replicas: complete.replicas });
  });

  test("a missing key ends the stream with NOT_FOUND; a bad body is refused before any stream", async () => {
    const { app, client } = api(net.nodes[3]!);
    await expect(net.run(readStream(client.v1.dht.get.$post({ json: { key: "nobody-put-this" } })))).rejects.toMatchObject({ code: "NOT_FOUND" });
    for (const [path, body] of [["put", { key: "k" }], ["put", { key: "", value: "v" }], ["put", { key: "k", value: "v", wait: "some" }], ["get", {}], ["announcements", { routerId: 5 }]] as const) {
      const res = await app.request(`/v1/dht/${path}`, { method: "POST", body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("INVALID_INPUT");
    }
  });

  test("POST /v1/dht/announcements finds the nodes announced under a router", async () => {
    const announcer = net.nodes[2]!;
    await net.run(announcer.announce("10.0.0.8/29", { peerPort: 4101, rttMs: 3, hops: 2 }));
    const { client } = api(net.nodes[9]!);
    const found = await net.run(readStream(client.v1.dht.announcements.$post({ json: { routerId: "10.0.0.8/29" } })));
    expect(found.map((x) => [x.nodeId, x.peerPort, x.hops])).toEqual([[announcer.nodeId, 4101, 2]]);
  });

  test("GET /v1/dht/peers lists the routing table", async () => {
    const node = net.nodes[4]!;
    const res = await api(node).app.request("/v1/dht/peers");
    expect(res.status).toBe(200);
    const peers = (await res.json()) as { id: string; port: number }[];
    expect(peers.length).toBe(node.peers().length);
    expect(peers.length).toBeGreaterThanOrEqual(11);
    expect(new Set(peers.map((p) => p.id)).has(node.nodeId)).toBe(false);
  });
});
