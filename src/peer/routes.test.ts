import { afterAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { connectionAt, endpointOf, loopbackNetworks } from "../../test/support/peers.ts";
import { peerRoutes } from "./routes.ts";

const { network, stopAll } = loopbackNetworks();
afterAll(stopAll);

test("GET /v1/peers lists each open connection once, from this node's side", async () => {
  const [a, b] = [await network(), await network()];
  const app = new Hono().route("/v1", peerRoutes(() => a));
  expect(await (await app.request("/v1/peers")).json()).toEqual([]);
  const before = Date.now();
  await a.connect(endpointOf(b));
  const rows = (await (await app.request("/v1/peers")).json()) as { nodeId: string; direction: string; endpoint: unknown; openedAt: string }[];
  expect(rows).toEqual([{ nodeId: b.nodeId, direction: "out", endpoint: { address: "127.0.0.1", port: b.port }, openedAt: expect.any(String) }]);
  expect(Date.parse(rows[0]!.openedAt)).toBeGreaterThanOrEqual(before - 1000);
  // The accepting side sees the same connection as incoming.
  await connectionAt(b, a.nodeId);
  const atB = (await (await new Hono().route("/v1", peerRoutes(() => b)).request("/v1/peers")).json()) as { nodeId: string; direction: string }[];
  expect(atB.map((r) => [r.nodeId, r.direction])).toEqual([[a.nodeId, "in"]]);
});
