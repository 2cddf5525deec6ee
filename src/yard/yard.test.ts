/**
 * The yard on the in-memory container engine: every path of an ICON's life (run, stop, hot start,
 * rm, failures, reconcile after a restart, idle policy) without root or Docker. The ICON's process is
 * the icon-runtime library on the real runtime socket; timeouts run on a fake clock.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { crashProgram, iconProgram, memoryYard, replicaManifest, until, untilState, type MemoryYard } from "../../test/support/memory-yard.ts";
import { MemoryEngine } from "../engine/memory-engine.ts";
import { IconError, isIconError } from "../errors.ts";
import { FakeClock } from "../util/clock.ts";
import { LABELS } from "./container-spec.ts";
import { IconStore } from "./store.ts";
import { silentLogger } from "../log.ts";
import type { IconNetwork } from "../engine/icon-network.ts";

const APP = "app:1";
let yards: MemoryYard[] = [];

async function setup(o: Parameters<typeof memoryYard>[0] = {}): Promise<MemoryYard> {
  const engine = o.engine ?? new MemoryEngine();
  if (!(await engine.inspectImage(APP))) await engine.addImage(APP);
  const my = await memoryYard({ ...o, engine });
  yards.push(my);
  return my;
}

afterEach(async () => {
  await Promise.all(yards.map((y) => y.close()));
  yards = [];
});

const states = (my: MemoryYard, name: string) => my.events.filter((e) => e.name === name).map((e) => e.state);

describe("yard on the memory engine", () => {
  test("run: STARTING, WAITING_READY, RUNNING on a labelled, hardened container; stop; hot start on the same container; rm", async () => {
    const my = await setup();
    my.engine.program(APP, iconProgram());
    const view = await my.yard.run({ image: APP, name: "web" });
    expect(view).toMatchObject({ name: "web", state: "RUNNING", port: 20000, role: "root", address: "127.0.0.1" });
    expect(states(my, "web")).toEqual(["STARTING", "WAITING_READY", "RUNNING"]);
    const [c] = my.engine.all();
    expect(c).toMatchObject({ running: true, labels: { [LABELS.node]: my.nodeId, [LABELS.name]: "web", [LABELS.role]: "root" } });

    expect((await my.yard.stop("web")).state).toBe("STOPPED");
    expect(my.engine.all().map((x) => [x.id, x.status])).toEqual([[c!.id, "exited"]]);
    expect(my.yard.list().map((v) => v.name)).toEqual([]); // stopped ICONs only with --all
    expect((await my.yard.start("web")).state).toBe("RUNNING");
    expect(my.engine.all().map((x) => [x.id, x.status])).toEqual([[c!.id, "running"]]); // hot: the same container

    await expect(my.yard.remove("web")).rejects.toMatchObject({ code: "CONFLICT" });
    await my.yard.remove("web", { force: true });
    expect(my.engine.all()).toEqual([]);
    expect(my.yard.list(true)).toEqual([]);
    expect(await new IconStore(my.dir, silentLogger).loadAll()).toEqual([]);
  });

  test("an image the engine does not hold: NOT_FOUND, and no record is left", async () => {
    const my = await setup();
    const err = await my.yard.run({ image: "nope:1" }).catch((e) => e);
    expect(isIconError(err, "NOT_FOUND")).toBe(true);
    expect(err.message).toContain("image nope:1 is not on this node");
    expect(my.yard.list(true)).toEqual([]);
  });

  test("a start the engine refuses (its port published by another container) leaves nothing behind", async () => {
    const my = await setup();
    my.engine.program(APP, iconProgram());
    await my.engine.addImage("squatter:1", { layers: ["squat"] }); // no program: it just runs
    const squatter = await my.engine.createContainer({
      name: "squatter", image: "squatter:1", env: {}, labels: {}, user: "", binds: [], tmpfs: {}, readOnlyRoot: false, capDrop: [], securityOpt: [],
      memoryBytes: 0, nanoCpus: 0, pidsLimit: 0, init: false, network: { mode: "publish", hostIp: "127.0.0.1", ports: [{ host: 20000, container: 80 }] }, stopTimeoutSec: 1,
    });
    await my.engine.startContainer(squatter);
    const err = await my.yard.run({ image: APP, name: "web" }).catch((e) => e);
    expect(isIconError(err, "CONFLICT")).toBe(true);
    expect(err.message).toContain("port is already allocated");
    expect(my.yard.list(true)).toEqual([]);
    expect(my.engine.all().map((c) => c.name)).toEqual(["squatter"]);
  });

  test("a container that exits before ready: FAILED with its exit code and last log lines, kept for icon logs", async () => {
    const my = await setup();
    my.engine.program(APP, crashProgram(3, "fixture: crashing on purpose"));
    const err = await my.yard.run({ image: APP, name: "crash" }).catch((e) => e);
    expect(isIconError(err, "FAILED")).toBe(true);
    expect(err.message).toContain("exited with code 3 before it called icon.ready()");
    expect(err.message).toContain("fixture: crashing on purpose");
    expect(my.yard.get("crash")?.state).toBe("FAILED");
    const lines = [];
    for await (const l of my.yard.logs("crash", {})) lines.push(l.line);
    expect(lines).toEqual(["fixture: crashing on purpose"]);
  });

  test("no ready within iconReadySec (fake clock): FAILED and its container stopped", async () => {
    const clock = new FakeClock();
    const my = await setup({ clock, config: { iconReadySec: 30 } });
    my.engine.program(APP, iconProgram({ ready: false }));
    const run = my.yard.run({ image: APP, name: "slow" }).catch((e) => e);
    await untilState(my, (e) => e.state === "WAITING_READY");
    await clock.advance(29_000);
    expect(my.yard.get("slow")?.state).toBe("WAITING_READY");
    await clock.advance(1_000);
    const err = await run;
    expect(err.message).toContain("did not call icon.ready() within 30 s of starting");
    expect(my.yard.get("slow")?.state).toBe("FAILED");
    await until("the container stopped", () => my.engine.all()[0]?.running === false);
  });

  test("ready on another port than ICON_PORT fails the ICON", async () => {
    const my = await setup();
    my.engine.program(APP, iconProgram({ ready: false, setup: async (icon) => void (await icon.ready(9999).catch(() => {})) }));
    const err = await my.yard.run({ image: APP, name: "wrong" }).catch((e) => e);
    expect(err.message).toContain("said ready on port 9999, but its port is 20000");
    expect(my.yard.get("wrong")?.state).toBe("FAILED");
  });

  test("a RUNNING ICON that exits 0 is STOPPED; one killed for memory is FAILED naming its limit", async () => {
    const my = await setup();
    const exits: ((code: number, oom: boolean) => void)[] = [];
    my.engine.program(APP, iconProgram({ setup: (_icon, p) => void exits.push((code, oomKilled) => p.exit(code, { oomKilled })) }));
    await my.yard.run({ image: APP, name: "a" });
    await my.yard.run({ image: APP, name: "b", memory: "64m" });
    await until("both runtimes answered", () => exits.length === 2);
    exits[0]!(0, false);
    exits[1]!(137, true);
    expect((await untilState(my, (e) => e.name === "a" && e.state !== "RUNNING" && e.previous === "RUNNING")).state).toBe("STOPPED");
    const b = await untilState(my, (e) => e.name === "b" && e.state === "FAILED");
    expect(b.reason).toContain("more than its memory limit (64 MiB");
  });

  test("hot start after the container was removed behind the node's back: a new container, the same port", async () => {
    const my = await setup();
    my.engine.program(APP, iconProgram());
    const before = await my.yard.run({ image: APP, name: "web" });
    await my.yard.stop("web");
    await my.engine.removeContainer(before.containerId!, { force: true });
    const after = await my.yard.start("web");
    expect(after).toMatchObject({ state: "RUNNING", port: before.port });
    expect(after.containerId).not.toBe(before.containerId);
    expect(my.engine.all().map((c) => c.id)).toEqual([after.containerId!]);
  });

  test("hot start when the namespace its container joins is gone (start: not found): a new container, the same port", async () => {
    const my = await setup();
    my.engine.program(APP, iconProgram());
    const before = await my.yard.run({ image: APP, name: "web" });
    await my.yard.stop("web");
    my.engine.failNext("startContainer", new IconError("NOT_FOUND", "No such container: 0123456789ab"));
    const after = await my.yard.start("web");
    expect(after).toMatchObject({ state: "RUNNING", port: before.port });
    expect(my.engine.all().map((c) => c.id)).toEqual([after.containerId!]);
    expect(after.containerId).not.toBe(before.containerId);
  });

  test("Docker unreachable: run fails with the DOCKER error and its fix", async () => {
    const my = await setup();
    my.engine.reachable = false;
    const err = await my.yard.run({ image: APP }).catch((e) => e);
    expect(isIconError(err, "DOCKER")).toBe(true);
    expect(err.fix).toContain("dockerSocket");
  });
});

describe("yard reconcile after a restart", () => {
  test("its running container is adopted (RUNNING once the runtime says ready again); orphans and duplicates go; FAILED stays FAILED", async () => {
    const my = await setup();
    my.engine.program(APP, iconProgram());
    const web = await my.yard.run({ image: APP, name: "web" });
    my.engine.program("crash:1", crashProgram(2));
    await my.engine.addImage("crash:1", { layers: ["crash"] });
    await my.yard.run({ image: "crash:1", name: "bad" }).catch(() => {});
    const bad = my.yard.get("bad")!.containerId!;
    await my.yard.close(); // a clean stop: the ICON is stopped and kept
    // While the node is down: its container runs again, a stray one carries its label, and a second "web".
    await my.engine.startContainer(web.containerId!);
    const spec = (name: string) => ({
      name, image: APP, env: {}, labels: { [LABELS.node]: my.nodeId, [LABELS.name]: name === "ghost" ? "ghost" : "web" }, user: "", binds: [], tmpfs: {},
      readOnlyRoot: false, capDrop: [], securityOpt: [], memoryBytes: 0, nanoCpus: 0, pidsLimit: 0, init: false, network: { mode: "none" as const }, stopTimeoutSec: 1,
    });
    await my.engine.createContainer(spec("ghost"));
    await my.engine.createContainer(spec("web-copy"));

    my.events.length = 0;
    await my.restart();
    await untilState(my, (e) => e.name === "web" && e.state === "RUNNING");
    expect(my.yard.get("web")).toMatchObject({ state: "RUNNING", containerId: web.containerId, port: web.port });
    expect(my.yard.get("bad")).toMatchObject({ state: "FAILED", containerId: bad });
    expect(my.engine.all().map((c) => c.id).sort()).toEqual([web.containerId!, bad].sort()); // ghost and the second "web" removed
  });

  test("an adopted container whose runtime never says ready again fails after iconReadySec (fake clock)", async () => {
    const clock = new FakeClock();
    const my = await setup({ clock, config: { iconReadySec: 10 } });
    let readyAgain = true;
    my.engine.program(APP, iconProgram({ ready: false, setup: (icon, p) => void (readyAgain && icon.ready(Number(p.spec.env.ICON_PORT)).catch(() => {})) }));
    // The first run is ready; after the restart the same program stays silent.
    await my.yard.run({ image: APP, name: "web" });
    await my.yard.close();
    readyAgain = false;
    await my.engine.startContainer(my.engine.all()[0]!.id);
    await my.restart();
    expect(my.yard.get("web")?.state).toBe("WAITING_READY");
    await clock.advance(10_000);
    const failed = await untilState(my, (e) => e.name === "web" && e.state === "FAILED");
    expect(failed.reason).toContain("within 10 s of the node restarting");
  });
});

describe("yard idle policy", () => {
  test("a replica with no clients for idleStopSec is paused, stopped after pausedSec paused, removed after idleRemoveSec stopped (fake clock)", async () => {
    const clock = new FakeClock();
    const my = await setup({ clock });
    let reported = false;
    my.engine.program(APP, iconProgram({ setup: async (icon) => void (await icon.clients(0), (reported = true)) }));
    const parent = { nodeId: "cd".repeat(20), icon: "web" };
    await my.yard.createReplica({ image: APP, name: "rep", parent, manifest: replicaManifest({ idleStopSec: 60, pausedSec: 120, idleRemoveSec: 600 }) });
    await until("the runtime reported its clients", () => my.engine.all()[0] && my.yard.get("rep")?.state === "RUNNING" && reported);
    await clock.advance(59_000);
    expect(my.yard.get("rep")?.state).toBe("RUNNING");
    await clock.advance(2_000);
    const paused = await untilState(my, (e) => e.name === "rep" && e.state === "PAUSED");
    expect(paused.reason).toBe("idle: no client for 60 s");
    expect(my.engine.all()[0]).toMatchObject({ status: "paused", running: true });
    await clock.advance(118_000); // paused at 60 s: 179 s now
    expect(my.yard.get("rep")?.state).toBe("PAUSED");
    await clock.advance(2_000);
    const stopped = await untilState(my, (e) => e.name === "rep" && e.state === "STOPPED");
    expect(stopped.reason).toBe("paused for 120 s");
    expect(my.engine.all()[0]).toMatchObject({ status: "exited" });
    await clock.advance(601_000);
    await until("the idle replica removed", () => !my.yard.get("rep"));
    expect(my.engine.all()).toEqual([]);
  });

  test("pause keeps the container and its port; start thaws it to RUNNING at once (no new ready); node shutdown stops a paused ICON", async () => {
    const my = await setup();
    my.engine.program(APP, iconProgram());
    await my.yard.run({ image: APP, name: "web" });
    const [c] = my.engine.all();
    expect((await my.yard.pause("web")).state).toBe("PAUSED");
    expect(my.engine.all().map((x) => [x.id, x.status])).toEqual([[c!.id, "paused"]]);
    expect(my.yard.list().map((v) => [v.name, v.state, v.port])).toEqual([["web", "PAUSED", 20000]]); // still active
    await expect(my.yard.remove("web")).rejects.toMatchObject({ code: "CONFLICT" });
    const before = my.events.length;
    expect((await my.yard.start("web")).state).toBe("RUNNING");
    expect(my.events.slice(before).map((e) => e.state)).toEqual(["RUNNING"]);
    expect(my.engine.all().map((x) => [x.id, x.status])).toEqual([[c!.id, "running"]]);
    await expect(my.yard.pause("nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await my.yard.stop("web");
    await expect(my.yard.pause("web")).rejects.toMatchObject({ code: "CONFLICT" });
    await my.yard.start("web");
    await my.yard.pause("web");
    await my.yard.close();
    expect(my.engine.all().map((x) => x.status)).toEqual(["exited"]);
  });
});

describe("yard networking, images and users", () => {
  /** An IconNetwork that records what the yard asks of it. */
  const recording = () => {
    const calls: string[] = [];
    const network: IconNetwork = {
      egress: "none",
      spec: () => ({ mode: "network", network: "bridge" }),
      check: async () => void calls.push("check"),
      attach: async (id, port) => (calls.push(`attach ${port}`), { egress: "none", address: `10.9.9.${port % 256}` }),
      detach: async (port) => void calls.push(`detach ${port}`),
      prepare: async (icons) => void calls.push(`prepare ${icons.join(",")}`),
      remove: async (icon) => void calls.push(`remove ${icon}`),
    };
    return { network, calls };
  };

  test("a running ICON's port is attached after its container started, detached when it stops or goes; ps states its network", async () => {
    const { network, calls } = recording();
    const my = await setup({ options: { network } });
    my.engine.program(APP, iconProgram());
    const view = await my.yard.run({ image: APP, name: "web" });
    expect(view.network).toEqual({ egress: "none", address: "10.9.9.32" }); // port 20000
    expect(my.engine.all()[0]!.addresses).toEqual({ bridge: expect.stringMatching(/^10\./) });
    expect(calls).toEqual(["prepare ", "check", "attach 20000"]);
    await my.yard.stop("web");
    expect(calls.at(-1)).toBe("detach 20000");
    expect(my.yard.get("web")?.network).toEqual({ egress: "none" });
    await my.yard.start("web");
    await my.yard.remove("web", { force: true });
    expect(calls.slice(3)).toEqual(["detach 20000", "check", "attach 20000", "detach 20000", "remove web"]);
  });

  test("a port that cannot be forwarded (taken on the host): the ICON does not stay up unreachable, and run leaves nothing", async () => {
    const { network } = recording();
    network.attach = async (_id, port) => Promise.reject(new IconError("CONFLICT", `port ${port} is taken`));
    const my = await setup({ options: { network } });
    my.engine.program(APP, iconProgram());
    await expect(my.yard.run({ image: APP, name: "web" })).rejects.toMatchObject({ code: "CONFLICT" });
    expect(my.yard.list(true)).toEqual([]);
    expect(my.engine.all()).toEqual([]);
  });

  test("icon run copies a missing image from the operator's engine; a replica never does", async () => {
    const imported: string[] = [];
    let my: MemoryYard;
    const importImage = async (ref: string) => {
      imported.push(ref);
      await my.engine.addImage(ref, { layers: ["copied"] });
    };
    my = await setup({ options: { importImage } });
    my.engine.program("copied:1", iconProgram());
    const parent = { nodeId: "cd".repeat(20), icon: "web" };
    await expect(my.yard.createReplica({ image: "copied:1", name: "rep", parent, manifest: replicaManifest() })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(imported).toEqual([]);
    expect((await my.yard.run({ image: "copied:1", name: "web" })).state).toBe("RUNNING");
    expect(imported).toEqual(["copied:1"]);
  });

  test("an image whose USER is root by another name runs as nobody, and the yard counts it", async () => {
    const my = await setup();
    await my.engine.addImage("rooty:1", { user: "admin", files: { "/etc/passwd": "admin:x:0:0::/:/bin/false\n" }, volumes: ["/data"] });
    my.engine.program("rooty:1", iconProgram());
    await my.yard.run({ image: "rooty:1", name: "rooty" });
    const spec = my.engine.specOf(my.engine.all()[0]!.id);
    expect(spec.user).toBe("65534:65534");
    expect(Object.keys(spec.tmpfs)).toEqual(["/tmp", "/data"]);
    expect(my.yard.status()).toMatchObject({ rootRemapped: 1 });
  });
});
