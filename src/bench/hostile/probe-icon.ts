/**
 * The attacker's ICON for the engine findings (6, 7): an ordinary ICON built FROM icon-runtime that,
 * before it says ready, does what hostile code inside a container would: connect to addresses it should
 * not reach, write into its socket directory, fill its image's volumes. It prints one line
 * `hostile-result {...}` with what happened, then serves and calls icon.ready() like any ICON, so the
 * node runs it the ordinary way (`icon run`). Its variants differ only in the image's USER, its
 * /etc/passwd and its VOLUMEs.
 */
import { answer, nameParam, readStream, type NodeClient } from "../../api/client.ts";
import type { ContainerEngine } from "../../engine/container-engine.ts";
import { IconError } from "../../errors.ts";
import { runtimeTag, RUNTIME_REPO } from "../../yard/runtime-image.ts";
import { tarStream, type TarItem } from "../../util/tar.ts";

/** One address to try from inside the ICON; host "gateway" is the ICON's default gateway. */
export interface ProbeTarget {
  name: string;
  host: string;
  port: number;
}

/** How a connection attempt ended: reached (connected, or refused by a live host) or not. */
export type ProbeEnd = "connected" | "refused" | "timeout" | string;
export const reached = (end: ProbeEnd) => end === "connected" || end === "refused";

export interface ProbeReport {
  uid: number;
  gid: number;
  /** The ICON's own IPv4 address and default gateway, as it sees them. */
  address?: string;
  gateway?: string;
  /** Per target name: how each attempt ended (one per round). */
  probes: Record<string, ProbeEnd[]>;
  /** Creating a file and a symlink in the socket directory: "ok" or the error code. */
  socketDirWrite?: string;
  socketDirSymlink?: string;
  /** Per filled path: bytes written before the first error, the error, and the filesystem it is on. */
  fills: Record<string, { bytes: number; error?: string; fs?: string }>;
  /** With REPLICATE_TO: whether its onward replicate ran (absent until it has an answer). */
  launder?: { ran: boolean; failure?: string };
}

const SERVER = `
import { icon } from "icon-runtime";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { closeSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
const env = process.env;
const r = { uid: process.getuid(), gid: process.getgid(), probes: {}, fills: {} };
r.address = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)?.address;
const hex = readFileSync("/proc/net/route", "utf8").split("\\n").map((l) => l.split("\\t")).find((f) => f[1] === "00000000")?.[2];
if (hex) r.gateway = [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
const attempt = (host, port) => new Promise((done) => {
  const s = connect({ host, port, timeout: Number(env.PROBE_TIMEOUT_MS ?? 1500) });
  s.on("connect", () => { s.destroy(); done("connected"); });
  s.on("timeout", () => { s.destroy(); done("timeout"); });
  s.on("error", (e) => done(e.code === "ECONNREFUSED" ? "refused" : String(e.code)));
});
const targets = JSON.parse(env.PROBES ?? "[]");
for (let round = 0; round < Number(env.ROUNDS ?? 1); round++) {
  const ends = await Promise.all(targets.map((t) => attempt(t.host === "gateway" ? r.gateway : t.host, t.port)));
  targets.forEach((t, i) => (r.probes[t.name] ??= []).push(ends[i]));
}
if (env.CHECK_SOCKET_DIR) {
  const dir = env.ICON_SOCKET.replace(/\\/[^/]*$/, "");
  try { writeFileSync(dir + "/hostile-file", "x"); r.socketDirWrite = "ok"; rmSync(dir + "/hostile-file"); } catch (e) { r.socketDirWrite = e.code; }
  try { symlinkSync("/etc/passwd", dir + "/hostile-link"); r.socketDirSymlink = "ok"; rmSync(dir + "/hostile-link"); } catch (e) { r.socketDirSymlink = e.code; }
}
const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\\n").map((l) => l.split(" "));
for (const path of (env.FILL ?? "").split(",").filter(Boolean)) {
  const f = { bytes: 0 };
  const m = mounts.find((x) => x[4] === path);
  if (m) f.fs = m[m.indexOf("-") + 1];
  const chunk = new Uint8Array(1 << 20).fill(7);
  try {
    const fd = openSync(path + "/hostile-fill", "w");
    try { while (f.bytes < Number(env.FILL_MB ?? 96) * 2 ** 20) f.bytes += writeSync(fd, chunk); } finally { closeSync(fd); }
  } catch (e) { f.error = e.code ?? String(e); }
  try { rmSync(path + "/hostile-fill"); } catch {}
  r.fills[path] = f;
}
console.log("hostile-result " + JSON.stringify(r));
// The report at /report too: an attacker that got this ICON run as a replica reads it over the network.
Bun.serve({ port: icon.port, fetch: (req) => new URL(req.url).pathname === "/report" ? Response.json(r) : new Response("probe\\n") });
await icon.ready();
if (env.REPLICATE_TO) {
  // Laundering: replicate onward, as the node this ICON runs on, to a node that admits that node's own ICONs.
  try { await (await icon.replicate(JSON.parse(env.REPLICATE_TO))).running; r.launder = { ran: true }; }
  catch (e) { r.launder = { ran: false, failure: String(e?.message ?? e) }; }
}
`;

export interface ProbeImageOptions {
  /** The image's tag. */
  tag: string;
  /** Its USER line, as an image author may spell it ("root:root", "00", "admin"...). */
  user?: string;
  /** Its /etc/passwd, replacing the runtime's. */
  passwd?: string;
  /** Its VOLUME paths. */
  volumes?: string[];
}

/** Builds a probe ICON image on `engine` FROM icon-runtime:<version>, which must be there. */
export async function buildProbeImage(engine: ContainerEngine, o: ProbeImageOptions): Promise<string> {
  const base = `${RUNTIME_REPO}:${runtimeTag()}`;
  if (!(await engine.inspectImage(base))) throw new IconError("NOT_FOUND", `the base image ${base} is missing`, "Build it first: icon runtime build.");
  const lines = [`FROM ${base}`, "COPY server.ts /app/server.ts"];
  const files: TarItem[] = [{ path: "server.ts", type: "file", mode: 0o644, data: SERVER }];
  if (o.passwd !== undefined) {
    lines.push("COPY passwd /etc/passwd");
    files.push({ path: "passwd", type: "file", mode: 0o644, data: o.passwd });
  }
  if (o.volumes?.length) lines.push(`VOLUME ${JSON.stringify(o.volumes)}`);
  if (o.user !== undefined) lines.push(`USER ${o.user}`);
  files.push({ path: "Dockerfile", type: "file", mode: 0o644, data: lines.join("\n") + "\n" });
  await engine.buildImage(tarStream(files), { tags: [o.tag] });
  return o.tag;
}

export interface ProbeRun {
  /** The ICON's name on the node. */
  name: string;
  image: string;
  targets?: ProbeTarget[];
  rounds?: number;
  /** Try to write into the socket directory. */
  checkSocketDir?: boolean;
  /** Paths to fill, and how many MiB to try. */
  fill?: string[];
  fillMb?: number;
}

/** Runs the probe ICON on a node (through its local API, as `icon run`) and returns its report; the ICON stays. */
export async function runProbe(api: NodeClient, o: ProbeRun): Promise<ProbeReport> {
  const env: Record<string, string> = { PROBES: JSON.stringify(o.targets ?? []), ROUNDS: String(o.rounds ?? 1) };
  if (o.checkSocketDir) env.CHECK_SOCKET_DIR = "1";
  if (o.fill?.length) env.FILL = o.fill.join(",");
  if (o.fillMb) env.FILL_MB = String(o.fillMb);
  await readStream(api.v1.icons.$post({ json: { image: o.image, name: o.name, env, readyTimeoutSec: 60 } }));
  return reportOf(api, o.name);
}

/**
 * Reads the `hostile-result` line from an ICON's log. The ICON prints it before it is ready, but Docker's
 * log driver writes it down on its own time: on a busy machine the first read can come before it, so the
 * log is read again for a while.
 */
async function reportOf(api: NodeClient, name: string, waitMs = 15_000): Promise<ProbeReport> {
  let found: ProbeReport | undefined;
  const deadline = Date.now() + waitMs;
  do {
    await readStream(api.v1.icons[":name"].logs.$get({ param: nameParam(name), query: {} }), (ev) => {
      const line = (ev as { line?: string }).line ?? "";
      if (line.startsWith("hostile-result ")) found = JSON.parse(line.slice("hostile-result ".length));
    });
    if (!found) await Bun.sleep(200);
  } while (!found && Date.now() < deadline);
  if (!found) throw new IconError("FAILED", `ICON ${name} logged no hostile-result line`, `See "icon logs ${name}".`);
  return found;
}

/** Removes the probe ICON (its container too). */
export async function removeProbe(api: NodeClient, name: string): Promise<void> {
  await answer(api.v1.icons[":name"].$delete({ param: nameParam(name), query: { force: "1" } })).catch(() => {});
}
