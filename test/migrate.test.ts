/**
 * Migration end to end, as the thesis ran it (4.1): the thesis network with one Docker engine
 * per IEP, nodes on IEP1 (origin) and IEP2 (edge), the sample ICON on IEP1, the sample client on UD.
 * - cold, direct and hot: each ends with the client on the edge's replica and its state intact;
 * - the edge node killed during a replicate: the client stays with the origin, and once the edge is back
 *   no container of it is left without a record (no orphan);
 * - the peer protocol refuses an unsigned and a replayed handshake from inside the network;
 * - with 1% loss on every link, migrations still succeed (the rate is printed).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { answer } from "../src/api/client.ts";
import { generateIdentity } from "../src/identity/identity.ts";
import { LocalPeer, NOISE_HEADER } from "../src/peer/auth.ts";
import { WS_PATH } from "../src/peer/protocol.ts";
import { MigrationLab } from "../src/lab/lab.ts";
import { address, inHost } from "../src/testbed/index.ts";
import type { ClientResult } from "../src/lab/client.ts";
import { describeWith } from "./support/needs.ts";

function expectOnEdge(lab: MigrationLab, r: ClientResult, mode: string) {
  expect(r.error).toBeUndefined();
  expect(r.ok).toBe(true);
  expect(r.stateIntact).toBe(true);
  expect(r.mode).toBe(mode);
  expect(new URL(r.edge!).hostname).toBe(address(lab.st, lab.roles.edge));
  // every phase happened, in order
  const times = Object.values(r.phasesMs);
  expect(times.length).toBe(9);
  expect([...times].sort((a, b) => a - b)).toEqual(times);
}

describeWith(["root", "docker", "binary"], "migration on the thesis network", () => {
  let lab: MigrationLab;
  beforeAll(async () => {
    lab = await MigrationLab.open({ name: "t-migrate" });
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  test("cold, then direct, then hot: the client ends on the edge with its state", async () => {
    expectOnEdge(lab, await lab.client(), "cold");
    expectOnEdge(lab, await lab.client(), "direct");
    await lab.restartEdge();
    expectOnEdge(lab, await lab.client(), "hot");
    await lab.resetEdgeCold();
    expectOnEdge(lab, await lab.client(), "cold");
  }, 180_000);

  test("an edge in allowlist mode: the stranger's client stays and is served (NOT_ADMITTED); admitted, it migrates", async () => {
    await lab.resetEdgeCold();
    const edge = lab.nodes.get(lab.roles.edge).api;
    const originKey = (await answer(lab.nodes.get(lab.roles.origin).api.v1.status.$get())).ownerKey;
    await answer(edge.v1.admission.mode.$put({ json: { mode: "allowlist" } }));
    try {
      const r = await lab.client();
      expect(r.ok).toBe(false);
      expect(r.stayed).toBe(true);
      expect(r.error).toContain("NOT_ADMITTED");
      expect(await answer(edge.v1.icons.$get({ query: { all: "1" } }))).toEqual([]);
      await answer(edge.v1.admission.owners.$post({ json: { key: originKey, note: "the origin" } }));
      expectOnEdge(lab, await lab.client(), "cold");
    } finally {
      await answer(edge.v1.admission.mode.$put({ json: { mode: "open" } }));
    }
  }, 180_000);

  test("the peer port refuses handshakes without a Noise message or addressed to another node, from inside the network", async () => {
    const edgeId = (await answer(lab.nodes.get(lab.roles.edge).api.v1.status.$get())).nodeId;
    const url = `http://${address(lab.st, lab.roles.edge)}:4101${WS_PATH}`;
    const client = new LocalPeer(generateIdentity(), "test");
    // Each request runs in UD's namespace through this binary acting as plain Bun.
    const statusOf = (headers: Record<string, string>) => {
      const script = `const r = await fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify({ connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers })} }); console.log(r.status); process.exit(0);`;
      const p = Bun.spawnSync(inHost(lab.st, lab.roles.client, [process.execPath, "-e", script]), { stdout: "pipe", stderr: "pipe" });
      return Number(p.stdout.toString().trim());
    };
    expect(statusOf({})).toBe(401);
    expect(statusOf({ [NOISE_HEADER]: client.dial("00".repeat(20)).header })).toBe(401);
    expect(statusOf({ [NOISE_HEADER]: client.dial(edgeId).header })).toBe(101);
  }, 60_000);

  test("the edge killed during a replicate: the client stays with the origin; no orphan once the edge is back", async () => {
    await lab.resetEdgeCold();
    const edge = lab.nodes.get(lab.roles.edge);
    const engine = lab.engines.get(lab.roles.edge)!; // the node's own engine outlives a node killed with -9
    const edgeId = (await answer(edge.api.v1.status.$get())).nodeId;
    const client = lab.client({ timeoutMs: 20_000 });
    // Kill -9 the edge node as soon as its engine holds the replica's container (made, not yet ready).
    let made: { id: string }[] = [];
    for (let i = 0; i < 2000 && !made.length; i++) {
      made = await engine.listContainers({ "icon.node": edgeId });
      if (!made.length) await Bun.sleep(5);
    }
    expect(made.length).toBe(1);
    edge.proc.kill("SIGKILL");
    await edge.proc.exited;
    const r = await client;
    expect(r.ok).toBe(false);
    expect(r.stayed).toBe(true);
    expect(r.error).toContain("the origin kept the client");

    lab.nodes.nodes.delete(lab.roles.edge);
    await lab.startNode(lab.roles.edge);
    const back = lab.nodes.get(lab.roles.edge);
    expect((await answer(back.api.v1.status.$get())).nodeId).toBe(edgeId);
    const recordedIds = async () => new Set((await answer(back.api.v1.icons.$get({ query: { all: "1" } }))).map((i) => i.containerId).filter(Boolean));
    // The container the killed node made is either recorded (kept) or gone (removed as an orphan).
    const recorded = await recordedIds();
    const left = await lab.engines.get(lab.roles.edge)!.listContainers({ "icon.node": edgeId });
    for (const c of made) expect(recorded.has(c.id) || !left.some((x) => x.id === c.id)).toBe(true);
    for (const c of left) expect(recorded.has(c.id)).toBe(true);
    // and the next client migrates again, onto a replica whose one container is recorded
    const again = await lab.client();
    expect(again.ok).toBe(true);
    const now = await lab.engines.get(lab.roles.edge)!.listContainers({ "icon.node": edgeId });
    expect(now.length).toBe(1);
    expect((await recordedIds()).has(now[0]!.id)).toBe(true);
  }, 180_000);
});

describeWith(["root", "docker", "binary"], "migration with 1% loss on every link", () => {
  let lab: MigrationLab;
  beforeAll(async () => {
    lab = await MigrationLab.open({ name: "t-migrate-loss", loss: 0.01 });
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  test("migrations succeed", async () => {
    const results: ClientResult[] = [];
    results.push(await lab.client()); // cold
    for (let i = 0; i < 6; i++) results.push(await lab.client()); // direct
    await lab.restartEdge();
    results.push(await lab.client()); // hot
    const ok = results.filter((r) => r.ok).length;
    process.stderr.write(`migration with 1% loss: ${ok}/${results.length} succeeded (${results.map((r) => (r.ok ? `${r.mode} ${r.totalMs} ms` : `failed: ${r.error}`)).join("; ")})\n`);
    // TCP retransmits what is lost; a migration may be slower, but must not fail.
    expect(ok).toBe(results.length);
  }, 300_000);
});

