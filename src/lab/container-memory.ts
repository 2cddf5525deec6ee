/**
 * What a container's processes hold in memory, read from its memory cgroup (v1 on this machine, v2
 * elsewhere): for the warm case, the cost of keeping a replica paused instead of stopped.
 */
import { readFile } from "node:fs/promises";
import { IconError } from "../errors.ts";

export interface ContainerMemory {
  /** Everything charged to the cgroup: its processes' anonymous memory and the page cache they touched. */
  usageBytes: number;
  /** Anonymous memory (heap, stacks): what stays resident however the page cache is reclaimed. */
  rssBytes: number;
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

export async function containerMemory(pid: number): Promise<ContainerMemory> {
  const { dir, v2 } = await cgroupDir(pid);
  const stat = Object.fromEntries((await readFile(`${dir}/memory.stat`, "utf8")).trim().split("\n").map((l) => l.split(" ") as [string, string]));
  const usage = Number((await readFile(`${dir}/${v2 ? "memory.current" : "memory.usage_in_bytes"}`, "utf8")).trim());
  return { usageBytes: usage, rssBytes: Number(v2 ? stat.anon : stat.total_rss) };
}
