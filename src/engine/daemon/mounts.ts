/**
 * Mounts one of icon's engines leaves behind: dockerd bind-mounts its data root onto itself, overlay2
 * mounts each container's root under it, and it pins a namespace at <exec-root>/netns/default. A
 * daemon killed with SIGKILL unmounts none of them, so its stop reads /proc/self/mountinfo (the engine
 * runs in our mount namespace: at most its network namespace differs) and unmounts what lies under the
 * engine's own directories, deepest first.
 */
import { readFileSync } from "node:fs";
import { IconError } from "../../errors.ts";
import { run } from "../../util/command.ts";

/** mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)). */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mount points of a mountinfo text (field 5). */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo.split("\n").filter(Boolean).map((l) => unescape(l.split(" ")[4] ?? "")).filter(Boolean);
}

export const isUnder = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

/** Mount points at or under any of `dirs`, deepest first (so children go before their parents). */
export function mountsUnder(dirs: string[], mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): string[] {
  const found = [...new Set(mountPoints(mountinfo).filter((m) => dirs.some((d) => isUnder(m, d))))];
  return found.sort((a, b) => b.split("/").length - a.split("/").length || b.length - a.length);
}

/** Unmounts everything at or under `dirs`; returns what it unmounted. Throws (with `fix`) if anything stays mounted. */
export async function unmountUnder(dirs: string[], fix: string): Promise<string[]> {
  const done: string[] = [];
  // A mount point can be stacked (the data root bind-mounted twice): repeat until none is left.
  for (let round = 0; round < 4; round++) {
    const left = mountsUnder(dirs);
    if (!left.length) return done;
    for (const m of left) {
      // Lazy (MNT_DETACH) only when a plain unmount is refused: by now no process of the engine runs.
      const r = await run(["umount", m]);
      if (r.code !== 0) await run(["umount", "--lazy", m]);
      done.push(m);
    }
  }
  const left = mountsUnder(dirs);
  if (left.length)
    throw new IconError("FAILED", `cannot unmount ${left.join(", ")}`, `Unmount by hand (umount --lazy ${left[0]}), then ${fix}.`);
  return done;
}
