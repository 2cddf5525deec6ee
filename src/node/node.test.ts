/**
 * A whole node on loopback (free ports, no Docker): its status under per-component keys, its local API
 * over the Unix socket through the typed client, and the one "already running" check.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answer, nodeAnswers, nodeClient, readStream } from "../api/client.ts";
import { renderStatus } from "../cli/commands/node-status.ts";
import { main } from "../cli/main.ts";
import { Admission } from "../peer/admission.ts";
import { resolveConfig } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { silentLogger } from "../log.ts";
import { nodeApi } from "./api.ts";
import { IconNode } from "./node.ts";

async function configFor(dataDir: string, flags: Partial<Config> = {}): Promise<Config> {
  const flagged = { dataDir, listen: "127.0.0.1", dhtPort: 0, peerPort: 0, engine: "external", dockerSocket: join(dataDir, "no-docker.sock"), ...flags };
  return (await resolveConfig({ env: {}, flags: flagged })).config;
}

describe("a node on loopback", () => {
  let dir: string;
  let node: IconNode;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "icon-node-"));
    node = await IconNode.create(await configFor(dir), silentLogger);
    await node.start();
  });
  afterAll(async () => {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("GET /v1/status: who and where the node is (the ports it bound, not the 0 it asked for), then each component under its own key", async () => {
    const res = await nodeApi(node, silentLogger).request("/v1/status");
    expect(res.status).toBe(200);
    const s = (await res.json()) as Awaited<ReturnType<IconNode["status"]>>;
    expect(s).toMatchObject({ nodeId: node.nodeId, dataDir: dir, address: "127.0.0.1", pid: process.pid });
    expect(s.dhtPort).toBeGreaterThan(0);
    expect(s.peerPort).toBeGreaterThan(0);
    expect(s.dht.listen).toBe(`127.0.0.1:${s.dhtPort}`);
    expect(s.peer).toMatchObject({ port: s.peerPort, connections: 0, inbound: 0, refused: { full: 0, badFrame: 0 }, admission: { mode: "open", owners: 0, refused: { notAdmitted: 0, manifest: 0, quotaPerOwner: 0, quotaPerPeer: 0, quotaTotal: 0 } }, images: { cache: { layers: 0 }, served: { refused: 0, refusedNotServed: 0 }, accepted: { refused: 0 } } });
    expect(s.topology).toMatchObject({ routers: 0 });
    expect(s.yard.docker).toStartWith("unavailable");
    // The peer port answers as this node.
    const info = (await (await fetch(`http://127.0.0.1:${s.peerPort}/v1/peer/info`)).json()) as { nodeId: string };
    expect(info.nodeId).toBe(node.nodeId);
    const human = renderStatus(s);
    expect(human).toContain(`\ndhtPort            ${s.dhtPort}\n`);
    expect(human).toContain("\ndht:\n  listen ");
    expect(human).toContain("\nyard:\n  docker ");
    // On loopback, IPv4 only: nothing is asked of a home router's IPv6 firewall, and status says why.
    expect(s.reachability).toMatchObject({ pinholes: [], firewall6: { state: "none", tried: ["the node has no IPv6 (listen6 off, or an IPv4 listen address)"] } });
    expect(human).toContain("\n  firewall6        state=none tried=0=the node has no IPv6");
  });

  test("the typed client reaches it over <data-dir>/icon.sock, JSON and NDJSON routes alike", async () => {
    const client = nodeClient(dir);
    expect((await answer(client.v1.status.$get())).nodeId).toBe(node.nodeId);
    expect(await answer(client.v1.dht.peers.$get())).toEqual([]);
    const put = await readStream(client.v1.dht.put.$post({ json: { key: "k", value: "v" } }));
    expect(put).toMatchObject({ key: "k", replicas: 1, targets: 1, ok: true }); // alone: only its own copy
    await expect(readStream(client.v1.dht.get.$post({ json: { key: "other" } }))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(answer(client.v1.closest.$get({ query: { client: "" } }))).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  test("icon admission changes the running node at once, and its file", async () => {
    const key = "ab".repeat(32);
    // The commands print the view on stdout: kept out of the test's output.
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await main(["admission", "allow", key, "--note", "alice", "--data-dir", dir, "--json"])).toBe(0);
      expect(await main(["admission", "mode", "allowlist", "--data-dir", dir, "--json"])).toBe(0);
      expect(node.parts.peer.admission.admits(key)).toBe(true);
      expect(node.parts.peer.admission.admits("cd".repeat(32))).toBe(false);
      const onDisk = (await Admission.open(dir, "open")).view();
      expect(onDisk).toMatchObject({ mode: "allowlist", owners: [{ key, note: "alice" }] });
      const view = await answer(nodeClient(dir).v1.admission.$get());
      expect(view).toMatchObject({ mode: "allowlist", self: (await answer(nodeClient(dir).v1.status.$get())).ownerKey });
      expect(await main(["admission", "deny", "cd".repeat(32), "--data-dir", dir, "--json"])).toBe(1);
      expect(await main(["admission", "mode", "open", "--data-dir", dir, "--json"])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
  });

  test("a second node on the same data dir is refused before any component starts", async () => {
    // Its DHT asks for the port the first one holds: a component that started first would fail on that instead.
    const second = await IconNode.create(await configFor(dir, { dhtPort: node.parts.dht.port }), silentLogger);
    await expect(second.start()).rejects.toMatchObject({ code: "CONFLICT", message: `a node is already running with data dir ${dir}` });
    expect(await nodeAnswers(dir)).toBe(true);
  });
});

test("a stopped node's socket is gone; its client says no node runs there", async () => {
  const dir = await mkdtemp(join(tmpdir(), "icon-node-"));
  const node = await IconNode.create(await configFor(dir), silentLogger);
  await node.start();
  expect(await nodeAnswers(dir)).toBe(true);
  await node.stop();
  expect(await nodeAnswers(dir)).toBe(false);
  await expect(answer(nodeClient(dir).v1.status.$get())).rejects.toMatchObject({ code: "NOT_RUNNING" });
  await rm(dir, { recursive: true, force: true });
});

test("a DHT helper (topology false) serves the DHT but traces and announces nothing: closest says why", async () => {
  const dir = await mkdtemp(join(tmpdir(), "icon-node-"));
  const node = await IconNode.create(await configFor(dir, { topology: false }), silentLogger);
  await node.start();
  try {
    const s = await node.status();
    expect(s.topology).toEqual({ off: expect.stringContaining("topology: false") });
    expect(s.dhtPort).toBeGreaterThan(0);
    const res = await nodeApi(node, silentLogger).request("/v1/closest?client=10.1.1.10");
    expect(((await res.json()) as { code: string }).code).toBe("NOT_RUNNING");
  } finally {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
