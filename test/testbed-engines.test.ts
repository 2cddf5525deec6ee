/**
 * --engines: each IEP host runs its own Docker engine inside its network namespace, with its own image
 * store (what a cold migration needs: the image on the origin, not on the edge). Root and Docker.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { thesisTopology } from "../src/testbed/builtin.ts";
import { engineAnswers } from "../src/engine/container-engine.ts";
import { MAIN_DOCKER_SOCKET, copyImage, engineAt, ensureImageFromBinaries, ensurePauseImage } from "../src/testbed/docker.ts";
import { mountPoints } from "../src/engine/daemon/mounts.ts";
import { DOCKERD_DATA_DIR } from "../src/testbed/dockerd/paths.ts";
import { down, up, type TestbedEvent } from "../src/testbed/lifecycle.ts";
import { PAUSE_IMAGE, STATE_DIR, statePath } from "../src/testbed/names.ts";
import { readState, type TestbedStatus } from "../src/testbed/state.ts";
import { describeWith } from "./support/needs.ts";
import { CLI, sh, cli } from "./support/run.ts";

const NAME = "tbeng";
const BUN_IMAGE = "icon-testbed-bun:latest";
const socketOf = (st: TestbedStatus, host: string) => st.hosts.find((h) => h.name === host)!.dockerSocket!;
const netnsOf = (pid: number) => sh(["ip", "netns", "identify", String(pid)]).stdout.toString().trim();

/** Everything of testbed `name`'s engines the machine still holds: processes, mounts, cgroups, dirs. */
function traces(name: string) {
  const marks = [`${STATE_DIR}/${name}-`, `${DOCKERD_DATA_DIR}/${name}/`];
  const mentions = (s: string) => marks.some((m) => s.includes(m));
  const processes = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return mentions(readFileSync(`/proc/${p}/cmdline`, "utf8"));
    } catch {
      return false;
    }
  });
  const cgroupProcs = readdirSync("/sys/fs/cgroup").flatMap((h) => {
    const dir = join("/sys/fs/cgroup", h, "icon-testbed");
    return existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith(`${name}-`)).map((d) => join(dir, d)) : [];
  });
  return {
    processes,
    mounts: mountPoints(readFileSync("/proc/self/mountinfo", "utf8")).filter((m) => mentions(`${m}/`)),
    cgroups: cgroupProcs,
    dirs: [join(DOCKERD_DATA_DIR, name), ...readdirSync(STATE_DIR).filter((d) => d.startsWith(`${name}-`)).map((d) => join(STATE_DIR, d))].filter((d) => existsSync(d)),
  };
}
const nothing = { processes: [], mounts: [], cgroups: [], dirs: [] };
/** The socket containerd made for a container's shim: /run/containerd/s/sha256(address/namespace/id). */
const shimSocketOf = (execRoot: string, id: string) =>
  `/run/containerd/s/${new Bun.CryptoHasher("sha256").update(`${execRoot}/containerd/containerd.sock/moby/${id}`).digest("hex")}`;
const mainDockerd = () => Number(readFileSync("/var/run/docker.pid", "utf8").trim());
const answers = async (socket: string) => engineAnswers(await engineAt(socket), 1000);
const imageIdAt = async (socket: string, ref: string) => (await (await engineAt(socket)).inspectImage(ref))?.id;

describeWith(["root", "docker"], "testbed: a Docker engine per IEP host", () => {
  let st: TestbedStatus;
  let webId = "";
  const events: TestbedEvent[] = [];
  const mainPid = mainDockerd();
  beforeAll(async () => {
    await down(NAME);
    await ensurePauseImage();
    await ensureImageFromBinaries(BUN_IMAGE, [[process.execPath, "/bun"]], ["/bun", "--version"]);
    st = await up({ name: NAME, topology: thesisTopology(), docker: false, engines: true, progress: (e) => events.push(e) });
  }, 90_000);
  afterAll(async () => {
    await down(NAME);
  }, 60_000);

  test("each IEP host runs its own engine inside its namespace; status names its socket", async () => {
    expect([st.docker, st.engines]).toEqual([true, true]);
    expect(st.hosts.map((h) => [h.name, h.dockerSocket, h.dockerd])).toEqual([
      ["UD", undefined, undefined],
      ["IEP1", `${STATE_DIR}/${NAME}-IEP1/d.sock`, "running"],
      ["IEP2", `${STATE_DIR}/${NAME}-IEP2/d.sock`, "running"],
    ]);
    expect(events.filter((e) => e.phase === "engine").map((e) => "node" in e && e.node).sort()).toEqual(["IEP1", "IEP2"]);
    const pids = readState(NAME)!.enginePids!;
    for (const host of ["IEP1", "IEP2"]) {
      expect(await answers(socketOf(st, host))).toBe(true);
      expect(netnsOf(pids[host]!)).toBe(`${NAME}-${host}`);
    }
    const json = JSON.parse(cli("testbed", "status", "--name", NAME, "--json").stdout.toString()) as TestbedStatus;
    expect(json.hosts.find((h) => h.name === "IEP2")).toMatchObject({ address: "10.1.3.10", container: `icon-tb-${NAME}-IEP2`, dockerSocket: socketOf(st, "IEP2") });
  });

  test("copyImage seeds IEP1's engine only, and skips an image it already holds", async () => {
    const iep1 = socketOf(st, "IEP1"), iep2 = socketOf(st, "IEP2");
    const mainId = await imageIdAt(MAIN_DOCKER_SOCKET, PAUSE_IMAGE);
    const first = await copyImage(PAUSE_IMAGE, { to: iep1 });
    expect(first).toMatchObject({ copied: true, id: mainId });
    expect(first.bytes).toBeGreaterThan(100_000);
    expect(await imageIdAt(iep1, PAUSE_IMAGE)).toBe(mainId);
    expect(await imageIdAt(iep2, PAUSE_IMAGE)).toBeUndefined();
    expect(await copyImage(PAUSE_IMAGE, { to: iep1 })).toMatchObject({ copied: false, bytes: 0 });
    // The same through the CLI, into IEP2 this time; a host without an engine is refused with a fix.
    const viaCli = cli("testbed", "copy-image", "--name", NAME, "IEP2", PAUSE_IMAGE, "--json");
    expect(JSON.parse(viaCli.stdout.toString())).toMatchObject({ ref: PAUSE_IMAGE, copied: true, id: mainId });
    expect(await imageIdAt(iep2, PAUSE_IMAGE)).toBe(mainId);
    const noEngine = cli("testbed", "copy-image", "--name", NAME, "UD", PAUSE_IMAGE);
    expect([noEngine.exitCode, noEngine.stderr.toString().includes("--engines")]).toEqual([1, true]);
    await expect(copyImage("icon-testbed-none:latest", { to: iep1 })).rejects.toThrow(/not in the engine/);
  });

  test("a container with --network host on IEP1's engine serves UD at IEP1's address", async () => {
    const iep1 = socketOf(st, "IEP1");
    expect((await copyImage(BUN_IMAGE, { to: iep1 })).copied).toBe(true);
    const run = sh(["docker", "-H", `unix://${iep1}`, "run", "-d", "--name", "web", "--network", "host", BUN_IMAGE,
      "/bun", "-e", `Bun.serve({ port: 8080, hostname: "0.0.0.0", fetch: () => new Response("served by IEP1's engine") })`]);
    expect(run.stderr.toString()).toBe("");
    webId = run.stdout.toString().trim();
    const pid = Number(sh(["docker", "-H", `unix://${iep1}`, "inspect", "-f", "{{.State.Pid}}", "web"]).stdout.toString());
    expect(netnsOf(pid)).toBe(`${NAME}-IEP1`);
    let body = "";
    for (let i = 0; i < 50 && !body; i++) {
      const r = sh(["ip", "netns", "exec", `${NAME}-UD`, process.execPath, "-e",
        `const r = await fetch("http://10.1.2.10:8080/").catch(() => undefined); console.log(r ? await r.text() : "")`]);
      body = r.stdout.toString().trim();
      if (!body) await Bun.sleep(100);
    }
    expect(body).toBe("served by IEP1's engine");
    // The main engine never saw it.
    expect(sh(["docker", "ps", "-q", "--filter", "name=^web$"]).stdout.toString().trim()).toBe("");
  }, 60_000);

  test("up again is a no-op; a SIGKILLed dockerd shows as dead and the next up re-creates it", async () => {
    const before = readState(NAME)!.enginePids!;
    await up({ name: NAME, topology: thesisTopology(), docker: false, engines: true });
    expect(readState(NAME)!.enginePids).toEqual(before);
    // IEP1's engine runs the web container: its shim and the container outlive the daemon.
    const shimSocket = shimSocketOf(readState(NAME)!.plan.nodes.find((n) => n.name === "IEP1")!.engine!.execRoot, webId);
    expect(existsSync(shimSocket)).toBe(true);
    process.kill(before.IEP1!, "SIGKILL");
    await Bun.sleep(200);
    const dead = cli("testbed", "status", "--name", NAME, "--json");
    expect(dead.exitCode).toBe(10);
    expect((JSON.parse(dead.stdout.toString()) as TestbedStatus).hosts.find((h) => h.name === "IEP1")!.dockerd).toBe("dead");
    st = await up({ name: NAME, topology: thesisTopology(), docker: false, engines: true });
    const after = readState(NAME)!.enginePids!;
    expect(after.IEP1).not.toBe(before.IEP1);
    expect(await answers(socketOf(st, "IEP1"))).toBe(true);
    // A fresh engine: the old container and images went with the old one.
    expect(await (await engineAt(socketOf(st, "IEP1"))).listContainers({})).toEqual([]);
    expect(await imageIdAt(socketOf(st, "IEP1"), BUN_IMAGE)).toBeUndefined();
    expect(existsSync(shimSocket)).toBe(false); // the orphaned shim was killed and its socket removed
  }, 90_000);

  test("down leaves no engine process, mount, cgroup or directory, and never touches the main engine; twice is fine", async () => {
    const live = traces(NAME);
    expect(live.processes.length).toBeGreaterThanOrEqual(4); // two dockerd, two containerd
    expect(live.mounts.length).toBeGreaterThan(0);
    const r = await down(NAME);
    expect(r.removed.engines.sort()).toEqual(["IEP1", "IEP2"]);
    expect(traces(NAME)).toEqual(nothing);
    expect(mainDockerd()).toBe(mainPid);
    expect(await answers(MAIN_DOCKER_SOCKET)).toBe(true);
    const again = cli("testbed", "down", "--name", NAME, "--json");
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout.toString()).removed.engines).toEqual([]);
  }, 60_000);
});

describeWith(["root", "docker"], "testbed: engines after a crash of up", () => {
  const CRASH = "tbengx";
  afterAll(async () => {
    await down(CRASH);
  }, 60_000);

  test("down after `up --engines` was SIGKILLed while its engines started leaves nothing", async () => {
    await down(CRASH);
    const file = join(tmpdir(), `icon-tbeng-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ hosts: ["UD", "IEP1"], routers: ["r"], links: [{ a: "UD", b: "r", delayMs: 1 }, { a: "r", b: "IEP1", delayMs: 1 }] }));
    const proc = Bun.spawn([...CLI, "testbed", "up", "--name", CRASH, "--topology", file, "--engines"], { stdout: "ignore", stderr: "ignore" });
    const recorded = () => (existsSync(statePath(CRASH)) ? readState(CRASH)?.enginePids?.IEP1 : undefined);
    for (let i = 0; i < 1000 && !recorded(); i++) await Bun.sleep(5);
    proc.kill("SIGKILL");
    await proc.exited;
    expect(recorded()).toBeGreaterThan(0);
    expect(readState(CRASH)!.phase).toBe("creating");
    const r = cli("testbed", "down", "--name", CRASH);
    expect(r.stderr.toString()).not.toContain("error");
    expect(r.exitCode).toBe(0);
    expect(traces(CRASH)).toEqual(nothing);
    expect(existsSync(statePath(CRASH))).toBe(false);
  }, 60_000);
});
