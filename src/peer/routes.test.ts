import { afterAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { connectionAt, endpointOf, loopbackNetworks } from "../../test/support/peers.ts";
import { MigrationHistory } from "./history.ts";
import { peerRoutes } from "./routes.ts";

const { network, stopAll } = loopbackNetworks();
afterAll(stopAll);

test("GET /v1/peers lists each open connection once, from this node's side", async () => {
  const [a, b] = [await network(), await network()];
  const app = new Hono().route("/v1", peerRoutes(() => a, new MigrationHistory()));
  expect(await (await app.request("/v1/peers")).json()).toEqual([]);
  const before = Date.now();
  await a.connect(endpointOf(b));
  const rows = (await (await app.request("/v1/peers")).json()) as { nodeId: string; direction: string; endpoint: unknown; openedAt: string }[];
  expect(rows).toEqual([{ nodeId: b.nodeId, direction: "out", endpoint: { address: "127.0.0.1", port: b.port }, openedAt: expect.any(String) }]);
  expect(Date.parse(rows[0]!.openedAt)).toBeGreaterThanOrEqual(before - 1000);
  // The accepting side sees the same connection as incoming.
  await connectionAt(b, a.nodeId);
  const atB = (await (await new Hono().route("/v1", peerRoutes(() => b, new MigrationHistory())).request("/v1/peers")).json()) as { nodeId: string; direction: string }[];
  expect(atB.map((r) => [r.nodeId, r.direction])).toEqual([[a.nodeId, "in"]]);
});

test("GET /v1/migrations: the newest `limit` migrations, oldest first, each told to listeners", async () => {
  const history = new MigrationHistory(2);
  const heard: number[] = [];
  history.onRecord((r) => heard.push(r.seq));
  const app = new Hono().route("/v1", peerRoutes(() => {
    throw new Error("not used");
  }, history));
  expect(await (await app.request("/v1/migrations")).json()).toEqual([]);
  const m = (mode: string) => ({ icon: "app", replica: `${"a".repeat(40)}/app-1`, target: "a".repeat(40), mode, ok: true, startedAt: new Date().toISOString(), ms: { total: 5 }, bytes: 0 });
  for (const mode of ["cold", "direct", "hot"]) history.add(m(mode));
  const rows = (await (await app.request("/v1/migrations")).json()) as { seq: number; mode: string }[];
  expect(rows.map((r) => [r.seq, r.mode])).toEqual([[2, "direct"], [3, "hot"]]);
  expect(heard).toEqual([1, 2, 3]);
});
