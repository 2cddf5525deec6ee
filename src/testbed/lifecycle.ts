/**
 * `up` and `down`. The state file is written before anything is made, so `down` finds everything after a
 * crash of anything (of `up` halfway, of the delay process). A second `up` with the same request on a
 * healthy testbed is a no-op; otherwise (different topology, or anything missing or dead) it removes the
 * old testbed and creates it again.
 */
import { rmSync } from "node:fs";
import { IconError } from "../errors.ts";
import { containerRunning, ensurePauseImage, removeContainers, startHostContainer } from "./docker.ts";
import { isDelayd, readyPath, startDelayd, stopDelayd } from "./delayd-process.ts";
import { dockerdAlive, dockerdsHealthy, leftoverDockerdDirs, removeDockerds, startDockerds } from "./dockerd/fleet.ts";
import { withLock } from "./lock.ts";
import { delaydLogPath } from "./names.ts";
import { addLinks, addNamespace, configureNode, deleteNamespace, netnsExists, pidsIn, waitLinksUp } from "./netns.ts";
import { makePlan, networkOf } from "./plan.ts";
import { guardsOf, installGuards, removeGuards } from "./guard.ts";
import { must, parallel } from "./shell.ts";
import { isMiniupnpd, startMiniupnpd, stopMiniupnpd, upnpNodes } from "./upnp.ts";
import { listTestbeds, readState, removeState, statusOf, writeState, type TestbedState, type TestbedStatus } from "./state.ts";
import type { NetworkSpec } from "./topology.ts";

export type TestbedEvent =
  | { type: "testbed"; phase: "reuse" | "recreate" | "guards" | "namespaces" | "containers" | "engines" | "links" | "configure" | "upnp" | "delay" | "ready" | "down"; detail: string }
  | { type: "testbed"; phase: "node"; node: string }
  /** One host's Docker engine answers (`--engines`), `ms` after it was spawned. */
  | { type: "testbed"; phase: "engine"; node: string; socket: string; ms: number };

export type Progress = (event: TestbedEvent, human: string) => void;
const quiet: Progress = () => {};

/** Namespaces, iptables and tc need root: a PERMISSION error for `user` (what builds a testbed) otherwise. */
export function requireRoot(user = "the testbed", fix = "Run it as root, e.g. sudo icon testbed up."): void {
  if (process.getuid?.() !== 0) throw new IconError("PERMISSION", `${user} needs root (network namespaces, iptables, tc)`, fix);
}

/** Is everything the state names still there and alive? */
export async function healthy(s: TestbedState): Promise<boolean> {
  if (s.phase !== "up") return false;
  for (const n of s.plan.nodes) {
    if (!netnsExists(n.netns)) return false;
    if (n.container && !(await containerRunning(n.container))) return false;
  }
  const needsDelay = s.plan.nodes.some((n) => n.queues.length);
  if (needsDelay && !(s.delayPid !== undefined && isDelayd(s.delayPid, s.plan.testbed))) return false;
  if (upnpNodes(s.plan.nodes).some((n) => !isMiniupnpd(s.upnpPids?.[n.name], n))) return false;
  return dockerdsHealthy(s);
}

export interface UpOptions {
  name: string;
  topology: NetworkSpec;
  docker: boolean;
  /** Also a Docker engine inside each container-owned host (implies docker): per-host image stores. */
  engines?: boolean;
  progress?: Progress;
}

export async function up(o: UpOptions): Promise<TestbedStatus> {
  requireRoot();
  return withLock(o.name, () => upLocked(o));
}

async function upLocked(o: UpOptions): Promise<TestbedStatus> {
  const progress = o.progress ?? quiet;
  const engines = o.engines === true, docker = o.docker || engines;
  const request = JSON.stringify({ topology: o.topology, docker, ...(engines ? { engines } : {}) });
  const old = readState(o.name);
  if (old) {
    if (old.request === request && (await healthy(old))) {
      progress({ type: "testbed", phase: "reuse", detail: o.name }, `testbed ${o.name} is already up with this topology`);
      return statusOf(old, true, () => true);
    }
    progress({ type: "testbed", phase: "recreate", detail: o.name }, `testbed ${o.name} exists but differs or is broken: re-creating it`);
    await downLocked(o.name);
  }
  const plan = makePlan(o.name, o.topology, docker, engines);
  const taken = plan.nodes.filter((n) => netnsExists(n.netns)).map((n) => n.netns);
  if (taken.length)
    throw new IconError("CONFLICT", `network namespaces already exist: ${taken.join(", ")} (not made by a testbed named ${o.name} that is on record)`,
      `Delete them (ip netns delete ${taken[0]}) or choose another --name.`);
  const dirs = leftoverDockerdDirs({ plan });
  if (dirs.length)
    throw new IconError("CONFLICT", `Docker engine directories already exist: ${dirs.join(", ")} (not made by a testbed named ${o.name} that is on record)`,
      `Stop any dockerd using them (its pidfile is d.pid inside), unmount what is mounted under them (grep ${dirs[0]} /proc/self/mountinfo), remove them, or choose another --name.`);
  const guards = guardsOf(plan);
  const state: TestbedState = { version: 1, phase: "creating", docker, ...(engines ? { engines } : {}), request, plan, ...(guards.length ? { guards } : {}), createdAt: new Date().toISOString() };
  writeState(o.name, state);
  let enginesUp: Promise<void> = Promise.resolve();
  try {
    if (guards.length) {
      // Before any namespace holds a public-looking address (guard.ts).
      progress({ type: "testbed", phase: "guards", detail: guards.join(",") }, `guarding ${guards.join(" and ")} with unreachable routes in this machine's namespace`);
      await installGuards(guards);
    }
    const containers = plan.nodes.filter((n) => n.container);
    if (containers.length) {
      await removeContainers(o.name); // leftovers of a run whose state file was lost
      if (await ensurePauseImage()) progress({ type: "testbed", phase: "containers", detail: "image" }, "built the pause image");
    }
    progress({ type: "testbed", phase: "namespaces", detail: `${plan.nodes.length}` }, `creating ${plan.nodes.length} namespaces`);
    await parallel(plan.nodes.filter((n) => !n.container), 4, (n) => addNamespace(n.netns));
    if (containers.length) {
      progress({ type: "testbed", phase: "containers", detail: containers.map((n) => n.container).join(",") }, `starting ${containers.length} host containers`);
      await parallel(containers, 2, async (n) => {
        const pid = await startHostContainer(n.container!, o.name, n.name);
        await must(["ip", "netns", "attach", n.netns, String(pid)], `attaching ${n.container}'s namespace`);
      });
    }
    // The engines need only their namespaces: they start while the links are made and configured.
    enginesUp = startDockerds(state, () => writeState(o.name, state), progress);
    enginesUp.catch(() => {}); // awaited below; this only keeps an early failure from being unhandled
    const links = networkOf(plan).links.length;
    progress({ type: "testbed", phase: "links", detail: `${links}` }, `creating ${links} links`);
    await addLinks(plan);
    progress({ type: "testbed", phase: "configure", detail: "addresses, routes, rules" }, "configuring addresses, routes, delay rules and rate limits");
    await parallel(plan.nodes, 4, async (n) => {
      await configureNode(n);
      progress({ type: "testbed", phase: "node", node: n.name }, `  ${n.name} ready`);
    });
    await waitLinksUp(plan);
    const upnp = upnpNodes(plan.nodes);
    if (upnp.length) {
      progress({ type: "testbed", phase: "upnp", detail: upnp.map((n) => n.name).join(",") }, `starting miniupnpd in ${upnp.map((n) => n.name).join(", ")}`);
      await Promise.all(upnp.map((n) => startMiniupnpd(n, (pid) => {
        state.upnpPids = { ...state.upnpPids, [n.name]: pid };
        writeState(o.name, state);
      })));
    }
    if (plan.nodes.some((n) => n.queues.length)) {
      const queues = plan.nodes.reduce((s, n) => s + n.queues.length, 0);
      progress({ type: "testbed", phase: "delay", detail: `${queues} queues` }, `starting the delay process for ${queues} queues`);
      state.delayPid = await startDelayd(o.name);
    }
    await enginesUp;
    state.phase = "up";
    writeState(o.name, state);
    progress({ type: "testbed", phase: "ready", detail: o.name }, `testbed ${o.name} is up`);
    return statusOf(state, true, () => true);
  } catch (e) {
    await enginesUp.catch(() => {}); // every spawn is recorded before down runs
    await downLocked(o.name).catch(() => {});
    throw e;
  }
}

export interface DownResult {
  name: string;
  /** `engines`: hosts whose Docker engine (or what was left of it) was removed. */
  removed: { namespaces: string[]; containers: string[]; delayd: boolean; processes: number; engines: string[]; miniupnpd: string[]; guards: string[] };
}

/** Removes everything the testbed made. Safe to call twice, or after a crash. */
export async function down(name: string, progress: Progress = quiet): Promise<DownResult> {
  requireRoot();
  return withLock(name, () => downLocked(name, progress));
}

async function downLocked(name: string, progress: Progress = quiet): Promise<DownResult> {
  const result: DownResult = { name, removed: { namespaces: [], containers: [], delayd: false, processes: 0, engines: [], miniupnpd: [], guards: [] } };
  const s = readState(name);
  // Engines first: they run inside container-owned namespaces and hold mounts on the machine. A failure
  // here keeps the state file, so the next `down` tries again; everything else is still removed.
  let engineFailure: unknown;
  if (s)
    try {
      result.removed.engines = [...(await removeDockerds(s)).keys()];
    } catch (e) {
      engineFailure = e;
    }
  // The delay process holds a reference to every namespace: stop it first so they really go away.
  let pid = s?.delayPid;
  if (!pid) {
    const ready = Bun.file(readyPath(name));
    if (await ready.exists()) pid = Number((await ready.text()).trim());
  }
  result.removed.delayd = await stopDelayd(pid, name);
  if (s)
    for (const n of upnpNodes(s.plan.nodes)) {
      if (await stopMiniupnpd(s.upnpPids?.[n.name], n)) result.removed.miniupnpd.push(n.name);
      rmSync(n.nat!.upnp!.dir, { recursive: true, force: true });
    }
  if (s) {
    // Processes left in plain namespaces (e.g. from `testbed exec`) would keep them alive.
    for (const n of s.plan.nodes.filter((n) => !n.container && netnsExists(n.netns)))
      for (const p of await pidsIn(n.netns)) {
        if (p === process.pid) continue;
        try {
          process.kill(p, "SIGKILL");
          result.removed.processes++;
        } catch {}
      }
  }
  result.removed.containers = await removeContainers(name);
  if (s) for (const n of s.plan.nodes) if (await deleteNamespace(n.netns)) result.removed.namespaces.push(n.netns);
  // Only once no namespace holds the guarded addresses any more.
  if (s?.guards?.length) result.removed.guards = await removeGuards(name, s.guards);
  if (engineFailure) throw engineFailure;
  removeState(name);
  rmSync(readyPath(name), { force: true });
  rmSync(delaydLogPath(name), { force: true });
  progress({ type: "testbed", phase: "down", detail: name },
    s || result.removed.containers.length ? `testbed ${name} removed (${result.removed.namespaces.length} namespaces, ${result.removed.containers.length} containers)` : `testbed ${name} was not up`);
  return result;
}

export async function status(name: string): Promise<TestbedStatus> {
  const s = readState(name);
  if (!s) {
    const others = listTestbeds();
    throw new IconError("NOT_FOUND", `no testbed named ${name} is up`,
      `Start it: icon testbed up --name ${name}${others.length ? ` (testbeds up now: ${others.join(", ")}; pick one with --name)` : ""}`);
  }
  const nodes = new Map(s.plan.nodes.map((n) => [n.name, n]));
  return statusOf(s, s.delayPid !== undefined && isDelayd(s.delayPid, name), (host) => dockerdAlive(s, host),
    (node) => isMiniupnpd(s.upnpPids?.[node], nodes.get(node)!));
}
