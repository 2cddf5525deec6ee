/**
 * Finding an engine's processes without ever going by a program's name: its dockerd is the PID whose
 * command line carries `--exec-root <its exec-root>`; its containerd and containerd shims name paths
 * under that exec-root in their arguments; its containers' processes sit in cgroups under its
 * --cgroup-parent. All of these paths come from the engine's plan, so nothing of the machine's own
 * engine (or of another of icon's engines) can match. After a SIGKILL of dockerd (its containerd dies
 * with it) the shims and container processes live on; this is how a stop after a crash still finds them.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isUnder } from "./mounts.ts";
import type { DockerdPlan } from "./plan.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";
/** containerd (1.5-1.7) puts every shim's socket here, whatever its own state directory. */
const SHIM_SOCKET_DIR = "/run/containerd/s";

export function argvOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

/** This engine's dockerd (or the nsenter about to become it: same PID, same arguments). */
export function isDockerd(pid: number | undefined, e: DockerdPlan): boolean {
  if (!pid || pid <= 0) return false;
  const argv = argvOf(pid);
  const i = argv?.indexOf("--exec-root") ?? -1;
  return i >= 0 && argv![i + 1] === e.execRoot;
}

/** The daemon's PID: recorded at spawn, else from its pidfile (an `up` killed before recording it). */
export function daemonPid(e: DockerdPlan, recorded?: number): number | undefined {
  if (isDockerd(recorded, e)) return recorded;
  try {
    const pid = Number(readFileSync(e.pidfile, "utf8").trim());
    return isDockerd(pid, e) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Every cgroup directory (one per hierarchy: v1 has several, v2 one) under the engine's parent. */
export function cgroupDirs(e: DockerdPlan): string[] {
  const roots = [CGROUP_ROOT];
  try {
    for (const d of readdirSync(CGROUP_ROOT)) {
      const p = join(CGROUP_ROOT, d);
      if (lstatSync(p).isDirectory()) roots.push(p); // cpu -> cpu,cpuacct links would repeat a hierarchy
    }
  } catch {}
  return roots.map((r) => join(r, e.cgroupParent)).filter((d) => existsSync(join(d, "cgroup.procs")));
}

/** Subdirectories first, then the directory itself. */
function walk(dir: string): string[] {
  let subs: string[] = [];
  try {
    subs = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) => walk(join(dir, d.name)));
  } catch {}
  return [...subs, dir];
}

function pidsInCgroups(e: DockerdPlan): number[] {
  const pids: number[] = [];
  for (const d of cgroupDirs(e).flatMap(walk))
    try {
      pids.push(...readFileSync(join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number));
    } catch {}
  return pids;
}

/** PIDs of the engine's daemon, containerd, shims and container processes. */
export function dockerdProcesses(e: DockerdPlan): number[] {
  const found = new Set(pidsInCgroups(e));
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (argvOf(pid)?.some((a) => isUnder(a, e.execRoot))) found.add(pid);
  }
  return [...found];
}

/**
 * The socket a containerd shim of this engine listens on: containerd names it
 * /run/containerd/s/sha256(<containerd address>/<namespace>/<container id>), and the shim removes it
 * only when it is shut down properly, so `down` removes it after killing a shim.
 */
export function shimSocket(argv: string[], e: DockerdPlan): string | undefined {
  const arg = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const address = arg("-address"), ns = arg("-namespace"), id = arg("-id");
  if (!address || !ns || !id || !isUnder(address, e.execRoot)) return undefined;
  return join(SHIM_SOCKET_DIR, createHash("sha256").update(`${address}/${ns}/${id}`).digest("hex"));
}

export function removeShimSockets(paths: string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}

/** SIGKILLs them and waits (up to `waitMs`) until they are gone; returns how many there were. */
export async function killAll(pids: number[], waitMs = 5000): Promise<number> {
  for (const p of pids)
    try {
      process.kill(p, "SIGKILL");
    } catch {}
  const deadline = Date.now() + waitMs;
  while (pids.some((p) => argvOf(p)?.length) && Date.now() < deadline) await Bun.sleep(20);
  return pids.length;
}

/** Removes the engine's cgroups (empty by now), and the shared parent when no other engine uses it. */
export function removeCgroups(e: DockerdPlan): void {
  for (const dir of cgroupDirs(e)) {
    for (const d of walk(dir))
      try {
        rmdirSync(d);
      } catch {}
    try {
      rmdirSync(join(dir, "..")); // .../icon-testbed: only if empty
    } catch {}
  }
}
