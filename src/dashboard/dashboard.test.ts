/**
 * The dashboard of a real node on loopback (no Docker): its routes with app.request(), the refusals that
 * keep other web pages out, the token outside loopback, the websocket push, and the metrics on both the
 * local API socket and the dashboard listener.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI } from "../../test/support/run.ts";
import { resolveConfig } from "../config/resolve.ts";
import { silentLogger } from "../log.ts";
import { IconNode } from "../node/node.ts";
import type { NewMigration } from "../peer/history.ts";
import { dashboardApp, type DashboardMessage } from "./app.ts";
import { serveDashboard } from "./server.ts";
import { snapshotOf, type Snapshot } from "./snapshot.ts";
import { TOKEN_COOKIE, TOKEN_FILE } from "./token.ts";

const migration = (mode: string, bytes = 0): NewMigration => ({
  icon: "app", replica: `${"b".repeat(40)}/app-12345678`, target: "b".repeat(40), mode, ok: true,
  startedAt: new Date().toISOString(), ms: { total: 1500, image: 900, start: 400, target: 1350 }, bytes,
});

let dir: string;
let node: IconNode;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "icon-dash-"));
  const flags = { dataDir: dir, listen: "127.0.0.1", dhtPort: 0, peerPort: 0, dashboardListen: "127.0.0.1:0", dockerSocket: join(dir, "no-docker.sock") };
  node = await IconNode.create((await resolveConfig({ env: {}, flags })).config, silentLogger);
  await node.start();
});
afterAll(async () => {
  await node.stop();
  await rm(dir, { recursive: true, force: true });
});

const dashboardUrl = async () => ((await node.status()).dashboard as { url: string }).url;
const snapshot = () => snapshotOf(node, Date.now());
const app = (token?: string) => dashboardApp({ snapshot, metrics: node.metrics, token });
const get = (path: string, headers: Record<string, string> = {}, token?: string) => app(token).request(`http://127.0.0.1:4180${path}`, { headers: { host: "127.0.0.1:4180", ...headers } });

describe("routes", () => {
  test("the page, its own script and style (no CDN), and a strict content policy", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script src="assets/dashboard.js">');
    expect(html).not.toMatch(/https?:\/\//);
    expect(page.headers.get("content-security-policy")).toStartWith("default-src 'self'");
    const js = await get("/assets/dashboard.js");
    expect(js.headers.get("content-type")).toStartWith("text/javascript");
    expect(await js.text()).toContain("cytoscape"); // the graph library is bundled in
    expect(await (await get("/assets/dashboard.css")).text()).toContain(".timeline");
  });

  test("GET /api/snapshot: the node, its map, its ICONs and its migrations", async () => {
    const s = (await (await get("/api/snapshot")).json()) as Snapshot;
    expect(s.node).toMatchObject({ nodeId: node.nodeId, address: "127.0.0.1", listen: "127.0.0.1", peerPort: node.parts.peer.port });
    // A lone node: nobody has dialled it back, so no verdict and no verified endpoint yet.
    expect(s.node.reachability).toMatchObject({ ipv4: "unknown", ipv6: "unknown", external: [] });
    expect(s.node.dht.dropped).toHaveProperty("malformed");
    expect(s.map.routers).toEqual([]);
    expect(s.icons).toEqual([]);
  });

  test("without a token it answers only as a loopback host, and websockets only from its own page", async () => {
    expect((await get("/", { host: "rebound.example:4180" })).status).toBe(401);
    expect((await get("/api/snapshot", { host: "localhost:4180" })).status).toBe(200);
    const ws = await get("/ws", { origin: "http://evil.example", upgrade: "websocket" });
    expect(ws.status).toBe(401);
    expect(((await ws.json()) as { code: string }).code).toBe("UNAUTHORIZED");
    // Its own page's origin passes the checks; app.request has no server to upgrade with, hence 400.
    expect((await get("/ws", { origin: "http://127.0.0.1:4180", upgrade: "websocket" })).status).toBe(400);
  });

  test("with a token: refused without it; ?token= sets the cookie and cleans the URL; cookie and Bearer pass", async () => {
    const token = "s3cret-token";
    const plain = (path: string, headers: Record<string, string> = {}) => app(token).request(`http://192.0.2.1:4180${path}`, { headers });
    expect((await plain("/")).status).toBe(401);
    expect((await plain("/?token=wrong")).status).toBe(401);
    const first = await plain("/?token=s3cret-token");
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/");
    expect(first.headers.get("set-cookie")).toContain(`${TOKEN_COOKIE}=${token}`);
    expect(first.headers.get("set-cookie")).toContain("HttpOnly");
    expect((await plain("/api/snapshot", { cookie: `${TOKEN_COOKIE}=${token}` })).status).toBe(200);
    expect((await plain("/metrics", { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await plain("/metrics", { authorization: "Bearer nope" })).status).toBe(401);
  });
});

describe("metrics", () => {
  const scrape = async (via: "socket" | "dashboard") =>
    via === "socket" ? (await fetch("http://icon/metrics", { unix: join(dir, "icon.sock") })).text() : (await fetch(`${await dashboardUrl()}metrics`)).text();

  test("DHT drops by reason are read live: a malformed datagram shows on the next scrape", async () => {
    const before = Number(/icon_dht_dropped_total\{reason="malformed"\} (\d+)/.exec(await scrape("socket"))?.[1]);
    const udp = await Bun.udpSocket({});
    udp.send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]), node.parts.dht.port, "127.0.0.1");
    udp.close();
    for (let i = 0; i < 100 && node.parts.dht.dht.counters.dropped.malformed === before; i++) await Bun.sleep(10);
    expect(await scrape("dashboard")).toContain(`icon_dht_dropped_total{reason="malformed"} ${before + 1}`);
  });

  test("a DHT put is timed; migrations are counted by mode with durations and bytes", async () => {
    await node.parts.dht.dht.put("metrics-key", "v");
    node.parts.peer.history.add(migration("cold", 4096));
    node.parts.peer.history.add(migration("warm"));
    const text = await scrape("socket");
    expect(text).toMatch(/icon_dht_put_duration_seconds_count [1-9]/);
    expect(text).toContain('icon_migrations_total{mode="cold",result="ok"} 1');
    expect(text).toContain('icon_migrations_total{mode="warm",result="ok"} 1');
    expect(text).toContain('icon_migration_duration_seconds_count{mode="cold"} 1');
    expect(text).toContain('icon_migration_duration_seconds_bucket{le="2.5",mode="cold"} 1');
    expect(text).toContain('icon_migration_duration_seconds_bucket{le="1",mode="cold"} 0');
    expect(text).toContain("icon_migration_bytes_shipped_total 4096");
    expect(text).toContain('icon_icons{state="RUNNING",role="root"} 0');
    expect(text).toContain('icon_peer_connections{direction="in"} 0');
    expect(text).toContain(`icon_node_info{node_id="${node.nodeId}"`);
  });
});

describe("the listener", () => {
  test("pushes a snapshot at once and again after a change, on TCP and on the Unix socket alike", async () => {
    const ws = new WebSocket(`${(await dashboardUrl()).replace("http", "ws")}ws`);
    const got: DashboardMessage[] = [];
    ws.onmessage = (ev) => got.push(JSON.parse(String(ev.data)));
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 300 && !ok(); i++) await Bun.sleep(10);
      expect(ok()).toBe(true);
    };
    await until(() => got.length >= 1);
    expect(got[0]!.snapshot.node.nodeId).toBe(node.nodeId);
    const seen = got[0]!.snapshot.migrations.length;
    node.parts.peer.history.add(migration("hot"));
    await until(() => got.some((m) => m.snapshot.migrations.length === seen + 1));
    expect(got.at(-1)!.snapshot.migrations.at(-1)).toMatchObject({ mode: "hot", ok: true });
    ws.close();

    const viaSocket = await fetch("http://127.0.0.1/api/snapshot", { unix: join(dir, "dashboard.sock") });
    expect(((await viaSocket.json()) as Snapshot).node.nodeId).toBe(node.nodeId);
    expect((await stat(join(dir, "dashboard.sock"))).mode & 0o777).toBe(0o600);
  });

  test("`icon dashboard` prints its URL and opens nothing", async () => {
    const p = Bun.spawn([...CLI, "dashboard", "--data-dir", dir], { stdout: "pipe", stderr: "pipe" });
    expect((await new Response(p.stdout).text()).trim()).toBe(await dashboardUrl());
    expect(await p.exited).toBe(0);
  });

  test("outside loopback it makes a token, keeps it 0600, and refuses a websocket without it", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "icon-dash-token-"));
    const server = await serveDashboard({ listen: "0.0.0.0:0", dataDir, snapshot, metrics: node.metrics, log: silentLogger });
    try {
      expect(server.token).toMatch(/^[\w-]{32}$/);
      expect((await Bun.file(join(dataDir, TOKEN_FILE)).text()).trim()).toBe(server.token!);
      expect((await stat(join(dataDir, TOKEN_FILE))).mode & 0o777).toBe(0o600);
      const wsUrl = server.url.replace("http://0.0.0.0", "ws://127.0.0.1") + "ws";
      const refused = await new Promise<string>((resolve) => {
        const ws = new WebSocket(wsUrl);
        ws.onopen = () => resolve("open");
        ws.onerror = () => resolve("refused");
      });
      expect(refused).toBe("refused");
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${server.token}` } } as never);
      const first = await new Promise<DashboardMessage>((resolve, reject) => {
        ws.onmessage = (ev) => resolve(JSON.parse(String(ev.data)));
        ws.onerror = () => reject(new Error("refused with the token"));
      });
      expect(first.type).toBe("snapshot");
      ws.close();
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
