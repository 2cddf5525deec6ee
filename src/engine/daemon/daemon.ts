/**
 * Starting and stopping one of icon's own dockerds (the node's engine, a testbed host's engine). The
 * daemon is spawned detached, in its own session, so that it outlives a crash of whoever started it
 * (a node killed with SIGKILL finds it again at its next start); it is found again by its plan's paths.
 * Stopping is safe to repeat and after any crash: the daemon (SIGTERM, then SIGKILL), every process
 * still naming its paths or in its cgroups, its mounts and its cgroups go; its data stays.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { IconError } from "../../errors.ts";
import { logTail } from "../../util/command.ts";
import { engineAnswers } from "../container-engine.ts";
import { createDockerEngine } from "../docker-engine.ts";
import { mountsUnder, unmountUnder } from "./mounts.ts";
import type { DockerdPlan } from "./plan.ts";
import { argvOf, daemonPid, dockerdProcesses, isDockerd, killAll, removeCgroups, removeShimSockets, shimSocket } from "./processes.ts";

export interface StartOptions {
  /** The whole command line: dockerd (perhaps behind nsenter) with dockerdArgs(plan) and its own flags. */
  argv: string[];
  /** Names the engine in messages ("the Docker engine in IEP1", "the node's engine"). */
  what: string;
  /** What to do when it does not come up (after its log's last lines). */
  fix: string;
  /** Gets the PID the moment it exists, so the caller can record it before the (slower) wait. */
  started?: (pid: number) => void;
  timeoutMs?: number;
}

/** Starts the daemon and waits until it answers a ping on its socket; returns its PID. */
export async function startDockerd(e: DockerdPlan, o: StartOptions): Promise<number> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  mkdirSync(e.runDir, { recursive: true, mode: 0o700 });
  // The data root is dockerd's to make: with user namespaces it gives it to the remapped root's group.
  mkdirSync(dirname(e.dataRoot), { recursive: true, mode: 0o711 });
  writeFileSync(e.config, "{}\n");
  const log = openSync(e.log, "a", 0o600);
  const [cmd, ...args] = o.argv;
  const child = spawn(cmd!, args, { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  let exited: string | undefined;
  child.on("error", (err) => (exited = err.message));
  child.on("exit", (code, signal) => (exited = `exit ${code ?? signal}`));
  child.unref();
  if (!child.pid) throw new IconError("UNSUPPORTED", `cannot start ${o.what}: ${cmd} did not start`, "Install dockerd (Debian: apt-get install docker.io; scripts/setup.sh does).");
  o.started?.(child.pid);
  const engine = await createDockerEngine(e.socket);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await engineAnswers(engine, 500)) return child.pid;
    if (exited !== undefined)
      throw new IconError("DOCKER", `${o.what} stopped (${exited}): ${logTail(e.log, 3)}`,
        /ENOENT|exit 127/.test(exited) ? "Install dockerd and nsenter (Debian: apt-get install docker.io util-linux; scripts/setup.sh does)." : o.fix);
    if (Date.now() > deadline) {
      await stopDockerd(e, child.pid, o.fix).catch(() => {});
      throw new IconError("TIMEOUT", `${o.what} did not answer within ${timeoutMs / 1000} s: ${logTail(e.log, 3)}`, o.fix);
    }
    await Bun.sleep(25);
  }
}

export interface DockerdStop {
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
 * Stops the daemon (SIGTERM, up to 20 s, then SIGKILL), kills any process still naming its paths or in
 * its cgroups, unmounts what lies under its directories and removes its cgroups. `fix` says how to
 * try again when a mount stays. The directories and the data stay.
 */
export async function stopDockerd(e: DockerdPlan, recordedPid: number | undefined, fix: string): Promise<DockerdStop> {
  const r: DockerdStop = { daemon: false, killed: 0, unmounted: 0 };
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
  r.unmounted = (await unmountUnder([e.runDir, e.dataRoot], fix)).length;
  removeCgroups(e);
  // A pidfile left by a killed daemon makes the next one refuse to start (its PID may be reused by now).
  rmSync(e.pidfile, { force: true });
  rmSync(e.socket, { force: true });
  return r;
}

/** Is anything mounted under the engine's directories (then nothing there may be deleted)? Throws with `fix`. */
export function assertUnmounted(e: DockerdPlan, fix: string): void {
  const stuck = mountsUnder([e.runDir, e.dataRoot]);
  if (stuck.length) throw new IconError("FAILED", `still mounted: ${stuck.join(", ")}`, `Unmount by hand (umount --lazy ${stuck[0]}), then ${fix}.`);
}

/** The daemon's PID when it runs and answers on its socket (a node restarted after a crash reuses it). */
export async function liveDockerd(e: DockerdPlan, recordedPid?: number): Promise<number | undefined> {
  const pid = daemonPid(e, recordedPid);
  if (!pid || !existsSync(e.socket)) return undefined;
  return (await engineAnswers(await createDockerEngine(e.socket), 3000)) ? pid : undefined;
}
