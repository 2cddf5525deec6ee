/**
 * What a container's processes hold in memory, read from its memory cgroup (v1 on this machine, v2
 * elsewhere) and from its processes: for the warm case, the cost of keeping a replica paused instead
 * of stopped.
 */
import { readFile } from "node:fs/promises";
import { IconError } from "../errors.ts";

export interface ContainerMemory {
  /** Everything charged to the cgroup: its processes' anonymous memory and the page cache they touched. */
  usageBytes: number;
  /** The cgroup's anonymous memory (heap, stacks): what stays resident however the page cache is reclaimed. */
  rssBytes: number;
  /** The resident set of its processes (VmRSS summed; shared pages counted in each). */
  processRssBytes: number;
}

/** The memory cgroup of a process (pid on this host), from /proc/PID/cgroup. */
async function cgroupDir(pid: number): Promise<{ dir: string; v2: boolean }> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, "utf8")).trim().split("\n").map((l) => l.split(":"));
  const v1 = lines.find((l) => l[1]!.split(",").includes("memory"));
  if (v1) return { dir: `/sys/fs/cgroup/memory${v1[2]}`, v2: false };
  const v2 = lines.find((l) => l[0] === "0" && l[1] === "");
  if (v2) return { dir: `/sys/fs/cgroup${v2[2]}`, v2: true };
  throw new IconError("NOT_FOUND", `process ${pid} has no memory cgroup`);
}

const rssOf = async (pid: string) => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8").catch(() => ""))?.[1] ?? 0) * 1024;

export async function containerMemory(pid: number): Promise<ContainerMemory> {
  const { dir, v2 } = await cgroupDir(pid);
  const read = (file: string) => readFile(`${dir}/${file}`, "utf8");
  const stat = Object.fromEntries((await read("memory.stat")).trim().split("\n").map((l) => l.split(" ") as [string, string]));
  const procs = (await read("cgroup.procs")).trim().split("\n").filter(Boolean);
  return {
    usageBytes: Number((await read(v2 ? "memory.current" : "memory.usage_in_bytes")).trim()),
    rssBytes: Number(v2 ? stat.anon : stat.total_rss),
    processRssBytes: (await Promise.all(procs.map(rssOf))).reduce((a, b) => a + b, 0),
  };
}
