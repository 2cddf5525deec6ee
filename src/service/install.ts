/**
 * Installs and removes the node's systemd unit. Where systemd is not running (containers, CI), install
 * still writes and verifies the unit and says what to run later; it succeeds only when asked not to
 * start (--no-start), since otherwise the node the operator asked for is not running.
 */
import { mkdtemp, mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { resolveConfig } from "../config/resolve.ts";
import { IconError } from "../errors.ts";
import type { Systemd } from "./systemd.ts";
import { SYSTEM_UNIT_DIR, dataDirOf, isSystemDir, renderUnit, unitName, unitPath } from "./unit.ts";

export interface ServiceHost {
  systemd: Systemd;
  /** Effective user id. */
  uid: number;
  /** Absolute path of the compiled binary; undefined when running from source. */
  exec: string | undefined;
  version: string;
}

export interface UnitLocation {
  name?: string;
  /** Where unit files live (default /etc/systemd/system; another one for tests and staging). */
  unitDir?: string;
}

export interface InstallOptions extends UnitLocation {
  dataDir: string;
  configFile?: string;
  /** daemon-reload, enable and (re)start the unit after writing it. */
  start: boolean;
}

export interface InstallResult {
  unit: string;
  path: string;
  dataDir: string;
  replaced: boolean;
  /** "ok", or "skipped" when systemd-analyze is not installed. */
  verified: "ok" | "skipped";
  started: boolean;
  warnings: string[];
}

export function locate(l: UnitLocation): { unit: string; dir: string; path: string } {
  const unit = unitName(l.name);
  const dir = resolve(l.unitDir ?? SYSTEM_UNIT_DIR);
  return { unit, dir, path: join(dir, unit) };
}

function requireRoot(host: ServiceHost, why: string, command: string): void {
  if (host.uid !== 0) throw new IconError("PERMISSION", `${command} needs root: ${why}`, `Run it as root: sudo icon ${command} ...`);
}

function systemctl(host: ServiceHost, args: string[], unit: string): void {
  const r = host.systemd.systemctl(args);
  if (r.code !== 0)
    throw new IconError("FAILED", `systemctl ${args.join(" ")} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`, `See "systemctl status ${unit}" and "journalctl -u ${unit}".`);
}

async function checkDataDir(path: string): Promise<string> {
  const dir = unitPath(resolve(path), "data dir");
  if (isSystemDir(dir)) throw new IconError("CONFIG", `data dir ${dir} is a system directory; the service may write only inside its data dir`, "Give a directory of its own, e.g. --data-dir /var/lib/icon.");
  if (/^\/(var\/)?tmp(\/|$)/.test(dir)) throw new IconError("CONFIG", `data dir ${dir} is under a temporary directory: the service gets a private /tmp and the system clears /tmp`, "Give a lasting directory, e.g. --data-dir /var/lib/icon.");
  const st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) throw new IconError("CONFIG", `data dir ${dir} exists and is not a directory`, "Give a directory, or a path that does not exist yet.");
  return dir;
}

/** The config file as the service will read it: no ICON_* environment, this data dir. */
async function checkConfig(path: string, dataDir: string): Promise<string> {
  const file = unitPath(resolve(path), "config file");
  if (!(await stat(file).catch(() => undefined))?.isFile()) throw new IconError("CONFIG", `config file ${file} does not exist`, "Give the path of an existing JSON config file.");
  await resolveConfig({ configFile: file, flags: { dataDir }, env: {} });
  return file;
}

/** Another icon unit in the same directory that already runs a node on this data dir. */
async function sameDataDir(dir: string, unit: string, dataDir: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names.filter((n) => n !== unit && /^icon(-[A-Za-z0-9_-]+)?\.service$/.test(n))) {
    if (dataDirOf(await Bun.file(join(dir, n)).text().catch(() => "")) === dataDir) return n;
  }
  return undefined;
}

/** A root service runs this file: anyone who can change it can become root. */
async function execWarnings(exec: string): Promise<string[]> {
  const st = await stat(exec);
  const dirSt = await stat(resolve(exec, ".."));
  if (st.uid !== 0 || (st.mode & 0o022) !== 0 || dirSt.uid !== 0 || (dirSt.mode & 0o022) !== 0)
    return [`${exec} or its directory can be changed by a user other than root, and the service runs it as root; copy the binary to /usr/local/bin and install from there`];
  return [];
}

/** systemd-analyze reads the unit under its real name, so it is checked in a scratch directory first. */
async function verifyUnit(host: ServiceHost, unit: string, text: string): Promise<{ verified: "ok" | "skipped"; warnings: string[] }> {
  const scratch = await mkdtemp(join(tmpdir(), "icon-unit-"));
  try {
    await writeFile(join(scratch, unit), text);
    const r = host.systemd.verify(join(scratch, unit));
    if (!r) return { verified: "skipped", warnings: ["systemd-analyze is not installed; the unit was not verified (Debian package: systemd)"] };
    const said = (r.stderr + r.stdout).trim();
    if (r.code !== 0) throw new IconError("FAILED", `systemd-analyze verify refused the unit: ${said}`, "Report this with the output above; the unit was not written.");
    return { verified: "ok", warnings: said ? [`systemd-analyze verify: ${said}`] : [] };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function installService(o: InstallOptions, host: ServiceHost): Promise<InstallResult> {
  if (!host.exec)
    throw new IconError("UNSUPPORTED", "icon runs from source here, so the unit would start bun with a script path",
      "Build the binary (bun build.ts) and run dist/icon service install, or install a release binary to /usr/local/bin first.");
  const { unit, dir, path } = locate(o);
  const exec = unitPath(host.exec, "binary");
  const systemdUp = host.systemd.running();
  if (dir === SYSTEM_UNIT_DIR) requireRoot(host, `it writes ${path}`, "service install");
  if (o.start && systemdUp) requireRoot(host, "it enables and starts the unit", "service install");
  const dataDir = await checkDataDir(o.dataDir);
  const configFile = o.configFile === undefined ? undefined : await checkConfig(o.configFile, dataDir);
  const other = await sameDataDir(dir, unit, dataDir);
  if (other) throw new IconError("CONFLICT", `${other} already runs a node with data dir ${dataDir}`, "Give this node its own --data-dir, or uninstall the other unit first.");

  const text = renderUnit({ exec, dataDir, configFile, version: host.version });
  const { verified, warnings } = await verifyUnit(host, unit, text);
  warnings.push(...(await execWarnings(exec)));
  const replaced = (await stat(path).catch(() => undefined)) !== undefined;
  // systemd sets up ReadWritePaths before the node runs, so the data dir must exist at the first start.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await mkdir(dir, { recursive: true });
  await writeFile(path, text, { mode: 0o644 });

  if (o.start) {
    if (!systemdUp)
      throw new IconError("UNSUPPORTED", `systemd is not running on this machine (no /run/systemd/system): wrote ${path} but did not enable or start it`,
        `Where systemd runs: systemctl daemon-reload && systemctl enable --now ${unit}. To only write the unit, pass --no-start.`);
    systemctl(host, ["daemon-reload"], unit);
    // enable by path also links a unit written outside systemd's search path (--unit-dir).
    systemctl(host, ["enable", path], unit);
    // restart, not start: a replaced unit takes effect now, and a stopped one starts.
    systemctl(host, ["restart", unit], unit);
  }
  return { unit, path, dataDir, replaced, verified, started: o.start, warnings };
}

export async function uninstallService(l: UnitLocation, host: ServiceHost): Promise<{ unit: string; path: string; dataDir?: string; stopped: boolean }> {
  const { unit, dir, path } = locate(l);
  const text = await Bun.file(path).text().catch(() => undefined);
  if (text === undefined) throw new IconError("NOT_FOUND", `no unit ${path}`, `See what is installed with "icon service status${l.name ? ` --name ${l.name}` : ""}".`);
  const systemdUp = host.systemd.running();
  if (dir === SYSTEM_UNIT_DIR) requireRoot(host, `it removes ${path}`, "service uninstall");
  // A unit written with --no-start outside systemd's search path is unknown to systemd (older versions
  // say nothing, newer "not-found"): nothing to stop.
  const state = systemdUp ? host.systemd.systemctl(["is-enabled", unit]).stdout.trim() : "";
  const known = state !== "" && state !== "not-found";
  if (known) {
    requireRoot(host, "it stops and disables the unit", "service uninstall");
    systemctl(host, ["disable", "--now", unit], unit);
  }
  await rm(path);
  if (known) systemctl(host, ["daemon-reload"], unit);
  return { unit, path, dataDir: dataDirOf(text), stopped: known };
}
