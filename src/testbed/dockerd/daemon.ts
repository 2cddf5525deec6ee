/**
 * One Docker engine inside one testbed host (`up --engines`): a dockerd started with `nsenter --net`
 * into the host's network namespace. Not `ip netns exec`: it remounts /sys, which hides
 * /sys/fs/cgroup, and dockerd then fails ("Devices cgroup isn't mounted"); nsenter changes only the
 * network namespace, so the daemon's mounts and cgroups are the machine's and `down` can find them.
 * No bridge, no iptables, no forwarding or masquerading: its containers run with `--network host`
 * (the host's address) or `none`, and the testbed's routing stays the only routing. Starting and
 * stopping are the product's (src/engine/daemon); `down` also deletes the engine's directories.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { engineAnswers } from "../../engine/container-engine.ts";
import { assertUnmounted, startDockerd as start, stopDockerd, type DockerdStop } from "../../engine/daemon/daemon.ts";
import { dockerdArgs, type DockerdPlan } from "../../engine/daemon/plan.ts";
import { netnsPath } from "../netns.ts";
import { engineAt } from "../docker.ts";
import { DOCKERD_DATA_DIR } from "./paths.ts";

const AGAIN = "run `icon testbed down` again";

export function daemonArgv(e: DockerdPlan, netns: string): string[] {
  return ["nsenter", `--net=${netnsPath(netns)}`, "dockerd", ...dockerdArgs(e),
    "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false"];
}

/** Are the engine's directories free (nothing left by an engine this testbed no longer records)? */
export function dockerdLeftovers(e: DockerdPlan): string[] {
  return [e.runDir, e.dataRoot].filter((d) => existsSync(d));
}

/** Starts the host's daemon; `started` gets the PID the moment it exists, for the state file. */
export function startDockerd(e: DockerdPlan, netns: string, started: (pid: number) => void, timeoutMs = 30_000): Promise<number> {
  return start(e, {
    argv: daemonArgv(e, netns), what: `the Docker engine in ${netns}`, started, timeoutMs,
    fix: "Those are the last lines of its log; check that dockerd starts on this machine, then run `icon testbed up` again.",
  });
}

export interface DockerdRemoval extends DockerdStop {
  containers: number;
}

/**
 * Removes everything of one engine: its containers (through its API while it answers), the daemon and
 * whatever it left (stopDockerd), and its directories. Safe to repeat and after any crash.
 */
export async function removeDockerd(e: DockerdPlan, recordedPid?: number): Promise<DockerdRemoval> {
  let containers = 0;
  const engine = await engineAt(e.socket);
  if (existsSync(e.socket) && (await engineAnswers(engine, 2000))) {
    const list = await engine.listContainers({}).catch(() => []);
    await Promise.all(list.map((c) => engine.removeContainer(c.id, { force: true }).then(() => containers++, () => {})));
  }
  const stopped = await stopDockerd(e, recordedPid, AGAIN);
  // Never remove a directory something is still mounted on: rm would delete through the mount.
  assertUnmounted(e, AGAIN);
  rmSync(e.runDir, { recursive: true, force: true });
  rmSync(e.dataRoot, { recursive: true, force: true });
  for (let d = dirname(e.dataRoot); d.startsWith(`${DOCKERD_DATA_DIR}`); d = dirname(d))
    try {
      if (readdirSync(d).length) break;
      rmdirSync(d);
    } catch {
      break;
    }
  return { containers, ...stopped };
}
