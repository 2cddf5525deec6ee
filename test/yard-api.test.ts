/**
 * The yard's programmatic surface on real Docker, as the peer protocol uses it: replicas
 * with a parent, an allocated pinned port and an initial state; state events; messages delivered to an
 * ICON; and the testbed's Docker mode, where ICONs join another container's network namespace.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCHEMA, type Config } from "../src/config/schema.ts";
import { silentLogger } from "../src/log.ts";
import { benchImage } from "../src/bench/yard.ts";
import { createDockerEngine, type DockerEngine } from "../src/engine/docker-engine.ts";
import { runtimeTag } from "../src/yard/runtime-image.ts";
import type { StateEvent } from "../src/yard/state.ts";
import { Yard } from "../src/yard/yard.ts";
import { describeWith } from "./support/needs.ts";
import { replicaManifest } from "./support/memory-yard.ts";

const defaults = Object.fromEntries(Object.entries(SCHEMA).map(([k, v]) => [k, v.default])) as unknown as Config;
const randomId = () => Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString("hex");

async function docker(...args: string[]): Promise<string> {
  const p = Bun.spawn(["docker", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`docker ${args[0]}: ${err}`);
  return out.trim();
}

describeWith(["docker", "binary"], "yard API on Docker", () => {
  let engine: DockerEngine;
  let image: string;
  let work: string;
  const yards: Yard[] = [];
  const created: string[] = [];
  const nodeIds: string[] = [];
  const netName = `icontest-net-${process.pid}`;
  const base = 33000 + (process.pid % 300) * 20;

  const newYard = (over: Partial<Config> = {}) => {
    const nodeId = randomId();
    nodeIds.push(nodeId);
    const config = { ...defaults, dataDir: join(work, nodeId.slice(0, 8)), listen: "127.0.0.1", portRange: `${base}-${base + 9}`, iconReadySec: 20, ...over };
    const y = new Yard({ config, nodeId, log: silentLogger, engine, address: () => "127.0.0.1" });
    yards.push(y);
    return y;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "icon-yard-api-"));
    engine = await createDockerEngine(defaults.dockerSocket);
    // icon-runtime:<version> and icon-bench-hello:<version> (the example ICON), built when missing
    // and then removed at the end.
    const tag = runtimeTag();
    for (const ref of [`icon-runtime:${tag}`, `icon-bench-hello:${tag}`]) if (!(await engine.inspectImage(ref))) created.push(ref);
    image = await benchImage(engine);
  }, 120_000);

  afterAll(async () => {
    for (const y of yards) await y.close().catch(() => {});
    for (const id of nodeIds) for (const c of await engine.listContainers({ "icon.node": id })) await engine.removeContainer(c.id, { force: true });
    await docker("rm", "-f", netName).catch(() => {});
    for (const ref of created.reverse()) await engine.removeImage(ref).catch(() => {});
    await rm(work, { recursive: true, force: true });
  }, 60_000);

  test("a replica: allocated pinned port, parent labels, initial state, events, messages from its parent", async () => {
    const y = newYard();
    await y.reconcile();
    const events: StateEvent[] = [];
    y.events.on("state", (e) => events.push(e));
    const parent = { nodeId: randomId(), icon: "root1" };
    const v = await y.createReplica({ image, parent, initialState: { greeting: "hallo" }, manifest: replicaManifest({ maxReplicas: 3 }) });
    expect(v).toMatchObject({ role: "replica", parent: `${parent.nodeId}/root1`, state: "RUNNING" });
    expect(v.port).toBeGreaterThanOrEqual(base);
    expect(v.port).toBeLessThanOrEqual(base + 9);
    expect(events.filter((e) => e.name === v.name).map((e) => e.state)).toEqual(["STARTING", "WAITING_READY", "RUNNING"]);
    expect(events.at(-1)).toMatchObject({ address: "127.0.0.1", port: v.port });
    expect(await (await fetch(`http://127.0.0.1:${v.port}/`)).text()).toBe(`hallo from ${v.name}\n`);
    const labels = JSON.parse(await docker("inspect", "--format", "{{json .Config.Labels}}", v.containerId!));
    expect(labels).toMatchObject({ "icon.role": "replica", "icon.parent": `${parent.nodeId}/root1`, "icon.port": String(v.port) });

    expect(y.deliver(v.name, { from: "parent", data: { greeting: "moi" } })).toBe(true);
    await Bun.sleep(200);
    expect(await (await fetch(`http://127.0.0.1:${v.port}/`)).text()).toBe(`moi from ${v.name}\n`);

    // The port stays pinned across a hot restart.
    await y.stop(v.name);
    const again = await y.start(v.name);
    expect(again.port).toBe(v.port);
    // Removed behind the node's back: the next start makes a new container, same record and port.
    await y.stop(v.name);
    await docker("rm", v.containerId!);
    const fresh = await y.start(v.name);
    expect(fresh.containerId).not.toBe(v.containerId);
    expect(fresh).toMatchObject({ state: "RUNNING", port: v.port });
    expect(y.record(v.name)!.policy).toEqual({ maxReplicas: 3 });
    await expect(y.createReplica({ image, parent, initialState: "x".repeat(300_000), manifest: replicaManifest() })).rejects.toThrow("initial state");
  }, 60_000);

  test("Docker mode: the ICON joins the network container's namespace, nothing is published", async () => {
    await docker("run", "-d", "--name", netName, "--network", "bridge", `icon-runtime:${image.split(":")[1]}`, "-e", "setInterval(() => {}, 1 << 30)");
    const ip = await docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", netName);
    const y = newYard({ networkContainer: netName });
    await y.reconcile();
    const v = await y.run({ image, name: "inns" });
    const [mode, ports] = (await docker("inspect", "--format", "{{.HostConfig.NetworkMode}} {{json .HostConfig.PortBindings}}", v.containerId!)).split(" ");
    expect(mode).toMatch(/^container:/);
    expect(ports === "null" || ports === "{}").toBe(true);
    expect(await (await fetch(`http://${ip}:${v.port}/`)).text()).toBe("hello from inns\n");

    const lost = newYard({ networkContainer: `${netName}-missing` });
    await lost.reconcile();
    await expect(lost.run({ image, name: "nons" })).rejects.toThrow(`networkContainer "${netName}-missing" does not exist`);
    expect(lost.list(true)).toEqual([]); // a refused start leaves nothing behind
  }, 60_000);
});
