/**
 * Finding 7, "uid 0 slips through": an image whose USER spells root in a way a plain check misses
 * (`root:root`, `root:0`, `00`, a name that /etc/passwd maps to uid 0) or declares an anonymous VOLUME.
 * The attack runs it as an ICON and reports the uid its process has on the host (0 would be host root),
 * whether it can write into its socket directory (a file to fill the disk, a symlink the node might
 * follow) and how much it can write into its volumes.
 */
import type { NodeClient } from "../../api/client.ts";
import { answer, nameParam } from "../../api/client.ts";
import type { ContainerEngine } from "../../engine/container-engine.ts";
import { readFileSync } from "node:fs";
import { runProbe, type ProbeReport } from "./probe-icon.ts";

export interface RootAttack {
  image: string;
  name: string;
  /** The image's VOLUME paths, to fill. */
  volumes?: string[];
  /** MiB to try to write into each volume. @default 96 */
  fillMb?: number;
}

export interface RootOutcome {
  /** contained: not host root, socket directory closed, volumes bounded; succeeded otherwise. */
  outcome: "contained" | "succeeded";
  /** The uid and gid of the ICON's process on the host. */
  hostUid: number;
  hostGid: number;
  /** What succeeded, in words, empty when contained. */
  breaches: string[];
  report: ProbeReport;
}

/** Real uid and gid of a host process (/proc/PID/status). */
export function hostIds(pid: number): { uid: number; gid: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (k: string) => Number(new RegExp(`^${k}:\\s*(\\d+)`, "m").exec(s)?.[1] ?? NaN);
  return { uid: field("Uid"), gid: field("Gid") };
}

/** `engine` is the engine the node runs its ICONs on (to find the container's process on the host). */
export async function rootInIcon(api: NodeClient, engine: ContainerEngine, a: RootAttack): Promise<RootOutcome> {
  const fillMb = a.fillMb ?? 96;
  const report = await runProbe(api, { name: a.name, image: a.image, checkSocketDir: true, fill: a.volumes, fillMb });
  const view = await answer(api.v1.icons[":name"].$get({ param: nameParam(a.name) }));
  const pid = (await engine.inspectContainer(view.containerId ?? ""))?.pid ?? 0;
  return { report, ...judgeRoot(report, pid, fillMb) };
}

/** What a probe ICON whose process is `pid` on the host got (the bench judges replicas it had run the same way). */
export function judgeRoot(report: ProbeReport, pid: number, fillMb: number): Omit<RootOutcome, "report"> {
  const { uid: hostUid, gid: hostGid } = pid > 0 ? hostIds(pid) : { uid: NaN, gid: NaN };
  const breaches: string[] = [];
  if (hostUid === 0) breaches.push("runs as root on the host");
  if (hostGid === 0) breaches.push("runs with the host's root group");
  if (report.socketDirWrite === "ok") breaches.push("writes files into its socket directory");
  if (report.socketDirSymlink === "ok") breaches.push("makes symlinks in its socket directory");
  for (const [path, f] of Object.entries(report.fills))
    if (!f.error && f.bytes >= fillMb * 2 ** 20) breaches.push(`wrote ${fillMb} MiB into ${path} (${f.fs ?? "?"}) unbounded`);
  return { outcome: breaches.length || !(pid > 0) ? "succeeded" : "contained", hostUid, hostGid, breaches };
}
