/**
 * One Docker engine inside one testbed host (`up --engines`): a dockerd started with `nsenter --net`
 * into the host's network namespace. Not `ip netns exec`: it remounts /sys, which hides
 * /sys/fs/cgroup, and dockerd then fails ("Devices cgroup isn't mounted"); nsenter changes only the
 * network namespace, so the daemon's mounts and cgroups are the machine's and `down` can find them.
 * No bridge, no iptables, no forwarding or masquerading: its containers run with `--network host`
 * (the host's address) or `none`, and the testbed's routing stays the only routing.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { IconError } from "../../errors.ts";
import { netnsPath } from "../netns.ts";
import { logTail } from "../shell.ts";
import { engineAnswers } from "../../engine/container-engine.ts";
import { engineAt } from "../docker.ts";
import { mountsUnder, unmountUnder } from "./mounts.ts";
import { DOCKERD_DATA_DIR, type DockerdPlan } from "./paths.ts";
import { argvOf, daemonPid, dockerdProcesses, isDockerd, killAll, removeCgroups, removeShimSockets, shimSocket } from "./processes.ts";

export function daemonArgv(e: DockerdPlan, netns: string): string[] {
  return ["nsenter", `--net=${netnsPath(netns)}`, "dockerd",
    "--config-file", e.config, "--data-root", e.dataRoot, "--exec-root", e.execRoot, "--pidfile", e.pidfile,
    "-H", `unix://${e.socket}`, "--cgroup-parent", e.cgroupParent,
    "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false"];
}

/** Are the engine's directories free (nothing left by an engine this testbed no longer records)? */
export function dockerdLeftovers(e: DockerdPlan): string[] {
  return [e.runDir, e.dataRoot].filter((d) => existsSync(d));
}

/**
 * Starts the daemon and waits until it answers a ping on its socket. `started` gets the PID the
 * moment it exists, so the caller records it in the state file before the (slower) wait.
 */
export async function startDockerd(e: DockerdPlan, netns: string, started: (pid: number) => void, timeoutMs = 30_000): Promise<number> {
  mkdirSync(e.runDir, { recursive: true, mode: 0o700 });
  mkdirSync(e.dataRoot, { recursive: true, mode: 0o710 });
  writeFileSync(e.config, "{}\n");
  const log = openSync(e.log, "a");
  const [cmd, ...args] = daemonArgv(e, netns);
  const child = spawn(cmd!, args, { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  let exited: string | undefined;
  child.on("error", (err) => (exited = err.message));
  child.on("exit", (code, signal) => (exited = `exit ${code ?? signal}`));
  child.unref();
  if (!child.pid) throw new IconError("UNSUPPORTED", `cannot start dockerd in ${netns}`, "Install nsenter (util-linux) and dockerd (docker.io); scripts/setup.sh does.");
  started(child.pid);
  const engine = await engineAt(e.socket);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await engineAnswers(engine, 500)) return child.pid;
    if (exited !== undefined)
      throw new IconError("DOCKER", `the Docker engine in ${netns} stopped (${exited}): ${logTail(e.log, 3)}`,
        /ENOENT|exit 127/.test(exited) ? "Install dockerd and nsenter (Debian: apt-get install docker.io util-linux; scripts/setup.sh does)."
          : "Those are the last lines of its log; check that dockerd starts on this machine, then run `icon testbed up` again.");
    if (Date.now() > deadline)
      throw new IconError("TIMEOUT", `the Docker engine in ${netns} did not answer within ${timeoutMs / 1000} s: ${logTail(e.log, 3)}`,
        "The machine may be overloaded; run `icon testbed up` again.");
    await Bun.sleep(25);
  }
}

export interface DockerdRemoval {
  containers: number;
  /** True when its dockerd was running. */
  daemon: boolean;
  /** Processes that had to be killed after the daemon stopped (shims, containers, a crashed daemon's). */
  killed: number;
  unmounted: number;
}

async function waitGone(pid: number, e: DockerdPlan, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isDockerd(pid, e) && Date.now() < deadline) await Bun.sleep(25);
  return !isDockerd(pid, e);
}

/**
 * Removes everything of one engine: its containers (through its API while it answers), the daemon
 * (SIGTERM, up to 20 s, then SIGKILL), any process still naming its paths or in its cgroups, the
 * mounts under its directories, its cgroups and its directories. Safe to repeat and after any crash.
 */
export async function removeDockerd(e: DockerdPlan, recordedPid?: number): Promise<DockerdRemoval> {
  const r: DockerdRemoval = { containers: 0, daemon: false, killed: 0, unmounted: 0 };
  const engine = await engineAt(e.socket);
  if (existsSync(e.socket) && (await engineAnswers(engine, 2000))) {
    const containers = await engine.listContainers({}).catch(() => []);
    await Promise.all(containers.map((c) => engine.removeContainer(c.id, { force: true }).then(() => r.containers++, () => {})));
  }
  const pid = daemonPid(e, recordedPid);
  if (pid) {
    r.daemon = true;
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
    // dockerd stops its remaining containers (10 s each by default) before exiting.
    if (!(await waitGone(pid, e, 20_000))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
      await waitGone(pid, e, 5000);
    }
  }
  const left = dockerdProcesses(e);
  const sockets = left.map((p) => shimSocket(argvOf(p) ?? [], e)).filter((s): s is string => !!s);
  r.killed = await killAll(left);
  removeShimSockets(sockets);
  r.unmounted = (await unmountUnder([e.runDir, e.dataRoot])).length;
  removeCgroups(e);
  // Never remove a directory something is still mounted on: rm would delete through the mount.
  const stuck = mountsUnder([e.runDir, e.dataRoot]);
  if (stuck.length) throw new IconError("FAILED", `still mounted: ${stuck.join(", ")}`, `Unmount by hand (umount --lazy ${stuck[0]}), then run \`icon testbed down\` again.`);
  rmSync(e.runDir, { recursive: true, force: true });
  rmSync(e.dataRoot, { recursive: true, force: true });
  for (let d = dirname(e.dataRoot); d.startsWith(`${DOCKERD_DATA_DIR}`); d = dirname(d))
    try {
      if (readdirSync(d).length) break;
      rmdirSync(d);
    } catch {
      break;
    }
  return r;
}
