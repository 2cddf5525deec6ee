/**
 * The sample app's promise to a client after its welcome: migrate or stay, never nothing (bench hostile
 * once saw a client wait 30 s for a word). The app runs as in its container, server.ts in a process of its
 * own, against the yard's real runtime socket; the node's services behind it are the seam replaced here.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Candidate, ReplicaStatus } from "../../icon-runtime/src/index.ts";
import type { ServerMessage } from "../../src/lab/app-protocol.ts";
import { silentLogger } from "../../src/log.ts";
import { IconEntry } from "../../src/yard/entry.ts";
import { RuntimeSocket } from "../../src/yard/runtime-server.ts";
import type { IconServices } from "../../src/yard/services.ts";

const NODE = "ab".repeat(20);
const EDGE: Candidate = { nodeId: "cd".repeat(20), address: "10.0.0.9", peerPort: 4101, rttMs: 5, ownRttMs: 50 };
const DEADLINE_MS = 500;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The app as a root ICON whose node answers with `services`; resolves once it said ready. */
async function app(services: Partial<IconServices>): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "icon-sample-"));
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const entry = new IconEntry(
    { name: "migrate-app", image: "img", role: "root", port, env: {}, user: "", createdAt: "", children: [], policy: {}, limits: { memoryBytes: 1 << 28, cpus: 1, pids: 64 }, lastState: "RUNNING" },
    {
      nodeId: NODE, egress: "unfiltered", address: () => "127.0.0.1", now: Date.now,
      services: () => ({ findCloser: async () => [], replicate: async () => ({ replica: "x" }), sendToParent: async () => false, sendToChildren: async () => 0, ...services }),
      onReady: async () => ready(),
      onPolicy: async () => {},
      save: async () => {},
    },
  );
  const socket = await RuntimeSocket.listen(join(dir, "icon.sock"), entry, silentLogger);
  entry.socket = socket;
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "server.ts")], {
    env: { ...process.env, ICON_SOCKET: join(dir, "icon.sock"), ICON_PORT: String(port), ICON_NAME: "migrate-app", MOVE_DEADLINE_MS: String(DEADLINE_MS) },
    stdout: "ignore", stderr: "ignore",
  });
  cleanup.push(async () => {
    proc.kill();
    await proc.exited;
    await socket.close();
    await rm(dir, { recursive: true, force: true });
  });
  await isReady;
  return port;
}

/** What a client hears in `ms` after its hello. */
async function client(port: number, ms: number): Promise<ServerMessage[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const heard: ServerMessage[] = [];
  ws.onmessage = (ev) => void heard.push(JSON.parse(String(ev.data)));
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
  ws.send(JSON.stringify({ type: "hello", clientId: "c1", state: { clientId: "c1", counter: 1, note: "n" } }));
  await Bun.sleep(ms);
  ws.close();
  return heard;
}

test("a client whose origin knows no closer node is told to stay", async () => {
  const heard = await client(await app({ findCloser: async () => [] }), 300);
  expect(heard.map((m) => m.type)).toEqual(["welcome", "stay"]);
  expect(heard[1]).toMatchObject({ reason: "no node is closer to you than this one" });
}, 15_000);

test("a replica that never reports running: the client is told to stay at the deadline, and nothing after", async () => {
  const heard = await client(await app({ findCloser: async () => [EDGE], replicate: async () => ({ replica: `${EDGE.nodeId}/r` }) }), DEADLINE_MS + 700);
  expect(heard.map((m) => m.type)).toEqual(["welcome", "stay"]);
  expect(heard[1]).toMatchObject({ reason: `no replica was ready to take the client within ${DEADLINE_MS} ms` });
}, 15_000);

test("a replica that runs: the client is told to migrate there, once", async () => {
  const running = (onStatus: (s: ReplicaStatus) => void) =>
    queueMicrotask(() => onStatus({ replica: `${EDGE.nodeId}/r`, target: EDGE.nodeId, state: "running", endpoint: { address: EDGE.address, port: 20000 }, mode: "direct" }));
  const heard = await client(await app({ findCloser: async () => [EDGE], replicate: async (_i, _t, _o, onStatus) => (running(onStatus), { replica: `${EDGE.nodeId}/r` }) }), DEADLINE_MS + 700);
  expect(heard.map((m) => m.type)).toEqual(["welcome", "migrate"]);
  expect(heard[1]).toMatchObject({ url: "ws://10.0.0.9:20000/ws" });
}, 15_000);
