import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import { installService, uninstallService, type ServiceHost } from "./install.ts";
import { serviceStatus } from "./status.ts";
import type { Ran, Systemd } from "./systemd.ts";
import { dataDirOf, isSystemDir, renderUnit, unitName, unitPath } from "./unit.ts";

/** The seam's stand-in: systemd "runs" (or not) and every systemctl call is recorded. */
function fakeSystemd(running: boolean, answers: Record<string, string> = {}): Systemd & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    running: () => running,
    systemctl(args): Ran {
      calls.push(args);
      return { code: 0, stdout: answers[args.join(" ")] ?? "", stderr: "" };
    },
    verify: () => ({ code: 0, stdout: "", stderr: "" }),
  };
}

// Data dirs under /tmp are refused (the service's /tmp is private), so scratch space is in the checkout.
const scratchRoot = join(import.meta.dir, "../../.icon-test");
let root: string;
let host: ServiceHost & { systemd: ReturnType<typeof fakeSystemd> };

async function refusal(p: Promise<unknown>): Promise<IconError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof IconError)) throw new Error(`expected an IconError, got ${String(e)}`);
  return e;
}

beforeEach(() => {
  mkdirSync(scratchRoot, { recursive: true });
  root = mkdtempSync(join(scratchRoot, "service-"));
  host = { systemd: fakeSystemd(false), uid: 0, exec: process.execPath, version: "9.9.9" };
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const units = () => join(root, "units");

describe("the unit", () => {
  const text = renderUnit({ exec: "/usr/local/bin/icon", dataDir: "/var/lib/icon", configFile: "/etc/icon/node.json", version: "1.0.0" });
  const directives = text.split("\n").filter((l) => /^[A-Za-z]+=/.test(l));

  test("runs node start of the absolute binary with the data dir, config and JSON logs", () => {
    expect(directives).toContain("ExecStart=/usr/local/bin/icon node start --data-dir /var/lib/icon --config /etc/icon/node.json --log-format json");
    expect(dataDirOf(text)).toBe("/var/lib/icon");
  });

  test("restarts on failure, after the network and Docker, and writes only its data dir and /run", () => {
    for (const d of ["Restart=on-failure", "After=network-online.target docker.service", "Wants=network-online.target docker.service",
      "ProtectSystem=strict", "ReadWritePaths=/var/lib/icon /run", "ProtectHome=read-only", "PrivateTmp=yes", "WantedBy=multi-user.target"])
      expect(directives).toContain(d);
  });

  test("sets none of the options that would break Docker or Bun", () => {
    const names = directives.map((d) => d.split("=")[0]);
    for (const bad of ["PrivateNetwork", "PrivateDevices", "RestrictNamespaces", "ProtectKernelTunables", "ProtectKernelModules",
      "ProtectControlGroups", "NoNewPrivileges", "SystemCallFilter", "RestrictAddressFamilies", "MemoryDenyWriteExecute", "User"])
      expect(names).not.toContain(bad);
  });

  test("names, paths and data dirs that cannot stand in a unit are refused", () => {
    expect(unitName()).toBe("icon.service");
    expect(unitName("edge-2")).toBe("icon-edge-2.service");
    expect(() => unitName("../x")).toThrow("use 1-64 letters");
    expect(() => unitPath("relative/dir", "data dir")).toThrow("must be absolute");
    expect(() => unitPath("/var/lib/my icon", "data dir")).toThrow("cannot stand in a systemd unit");
    expect(() => unitPath("/var/lib/100%", "data dir")).toThrow("cannot stand in a systemd unit");
    expect(isSystemDir("/var/")).toBe(true);
    expect(isSystemDir("/var/lib/icon")).toBe(false);
  });
});

describe("install", () => {
  test("with --no-start writes the unit and creates the data dir, calling no systemctl", async () => {
    const dataDir = join(root, "data");
    const r = await installService({ unitDir: units(), dataDir, start: false }, host);
    expect(r).toMatchObject({ unit: "icon.service", path: join(units(), "icon.service"), replaced: false, verified: "ok", started: false });
    expect(readFileSync(r.path, "utf8")).toContain(`ExecStart=${process.execPath} node start --data-dir ${dataDir} --log-format json`);
    expect(existsSync(dataDir)).toBe(true);
    expect(host.systemd.calls).toEqual([]);
  });

  test("where systemd runs: daemon-reload, enable by path, restart, in that order", async () => {
    host.systemd = fakeSystemd(true);
    const r = await installService({ unitDir: units(), name: "edge", dataDir: join(root, "data"), start: true }, host);
    expect(host.systemd.calls).toEqual([["daemon-reload"], ["enable", r.path], ["restart", "icon-edge.service"]]);
    expect(r.started).toBe(true);
  });

  test("where systemd does not run, starting fails after writing the unit, saying what to run later", async () => {
    const e = await refusal(installService({ unitDir: units(), dataDir: join(root, "data"), start: true }, host));
    expect(e.code).toBe("UNSUPPORTED");
    expect(e.message).toContain("systemd is not running");
    expect(e.fix).toContain("systemctl enable --now icon.service");
    expect(existsSync(join(units(), "icon.service"))).toBe(true);
  });

  test("needs root for the system unit dir and for systemctl, and the compiled binary", async () => {
    host.uid = 1000;
    let e = await refusal(installService({ dataDir: join(root, "data"), start: false }, host));
    expect(e.code).toBe("PERMISSION");
    expect(e.message).toContain("/etc/systemd/system/icon.service");
    host.systemd = fakeSystemd(true);
    e = await refusal(installService({ unitDir: units(), dataDir: join(root, "data"), start: true }, host));
    expect(e.code).toBe("PERMISSION");
    host.uid = 0;
    host.exec = undefined;
    e = await refusal(installService({ unitDir: units(), dataDir: join(root, "data"), start: false }, host));
    expect(e.code).toBe("UNSUPPORTED");
    expect(e.message).toContain("runs from source");
  });

  test("bad data dirs are refused before anything is written", async () => {
    writeFileSync(join(root, "file"), "");
    for (const [dataDir, says] of [[join(root, "file"), "is not a directory"], ["/tmp/icon", "under a temporary directory"], ["/var/tmp", "under a temporary directory"], ["/var", "system directory"], [join(root, "a b"), "cannot stand in a systemd unit"]]) {
      const e = await refusal(installService({ unitDir: units(), dataDir: dataDir!, start: false }, host));
      expect(e.code).toBe("CONFIG");
      expect(e.message).toContain(says!);
    }
    expect(existsSync(units())).toBe(false);
  });

  test("the config file must exist and hold valid settings", async () => {
    const config = join(root, "node.json");
    let e = await refusal(installService({ unitDir: units(), dataDir: join(root, "data"), configFile: config, start: false }, host));
    expect(e.message).toContain("does not exist");
    writeFileSync(config, JSON.stringify({ dhtPort: 99999 }));
    e = await refusal(installService({ unitDir: units(), dataDir: join(root, "data"), configFile: config, start: false }, host));
    expect(e.code).toBe("CONFIG");
    expect(e.message).toContain("dhtPort");
    writeFileSync(config, JSON.stringify({ dhtPort: 4200 }));
    const r = await installService({ unitDir: units(), dataDir: join(root, "data"), configFile: config, start: false }, host);
    expect(readFileSync(r.path, "utf8")).toContain(`--config ${config} --log-format json`);
  });

  test("a second node on the same data dir is refused; installing again replaces the unit", async () => {
    const dataDir = join(root, "data");
    await installService({ unitDir: units(), dataDir, start: false }, host);
    const e = await refusal(installService({ unitDir: units(), name: "two", dataDir, start: false }, host));
    expect(e.code).toBe("CONFLICT");
    expect(e.message).toContain("icon.service already runs a node");
    expect((await installService({ unitDir: units(), dataDir, start: false }, host)).replaced).toBe(true);
  });

  test("a unit systemd-analyze refuses is not written", async () => {
    host.systemd.verify = () => ({ code: 1, stdout: "", stderr: "Command /x is not executable" });
    const e = await refusal(installService({ unitDir: units(), dataDir: join(root, "data"), start: false }, host));
    expect(e.code).toBe("FAILED");
    expect(e.message).toContain("is not executable");
    expect(existsSync(join(units(), "icon.service"))).toBe(false);
  });

  test("warns when someone other than root could change the binary the service runs as root", async () => {
    const open = join(root, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    writeFileSync(join(open, "icon"), "", { mode: 0o755 });
    host.exec = join(open, "icon");
    const r = await installService({ unitDir: units(), dataDir: join(root, "data"), start: false }, host);
    expect(r.warnings.join("\n")).toContain("can be changed by a user other than root");
  });
});

describe("uninstall and status", () => {
  test("where systemd runs: status asks systemctl; uninstall disables, removes the unit, keeps the data dir", async () => {
    const dataDir = join(root, "data");
    await installService({ unitDir: units(), dataDir, start: false }, host);
    host.systemd = fakeSystemd(true, { "is-enabled icon.service": "enabled\n", "is-active icon.service": "active\n" });
    const s = await serviceStatus({ unitDir: units() }, host);
    expect(s).toMatchObject({ installed: true, dataDir, systemd: { running: true, enabled: "enabled", active: "active" } });
    expect(s.node.answers).toBe(false);
    const r = await uninstallService({ unitDir: units() }, host);
    expect(r).toMatchObject({ stopped: true, dataDir });
    expect(host.systemd.calls.slice(2)).toEqual([["is-enabled", "icon.service"], ["disable", "--now", "icon.service"], ["daemon-reload"]]);
    expect(existsSync(join(units(), "icon.service"))).toBe(false);
    expect(existsSync(dataDir)).toBe(true);
  });

  test("a unit systemd never loaded is only removed; a missing unit is NOT_FOUND", async () => {
    await installService({ unitDir: units(), dataDir: join(root, "data"), start: false }, host);
    host.systemd = fakeSystemd(true, { "is-enabled icon.service": "not-found\n" });
    expect((await uninstallService({ unitDir: units() }, host)).stopped).toBe(false);
    expect(host.systemd.calls).toEqual([["is-enabled", "icon.service"]]);
    const e = await refusal(uninstallService({ unitDir: units() }, host));
    expect(e.code).toBe("NOT_FOUND");
  });
});
