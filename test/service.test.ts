/**
 * `icon service` with the compiled binary, into a scratch unit dir (never /etc/systemd/system): the unit
 * it writes passes `systemd-analyze verify`, status follows a real node on the unit's data dir, and the
 * refusals (non-root, from source, no systemd) exit with their codes. Under a second.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, ROOT_DIR, describeWith } from "./support/needs.ts";
import { cli, sh } from "./support/run.ts";

// Scratch space in the checkout: the service refuses data dirs under /tmp (its /tmp is private).
mkdirSync(join(ROOT_DIR, ".icon-test"), { recursive: true });
const root = mkdtempSync(join(ROOT_DIR, ".icon-test/service-"));
const units = join(root, "units");
const dataDir = join(root, "data");
// A name of its own, so that even where systemd runs no real icon unit is touched.
const name = `test${process.pid}`;
const unitFile = join(units, `icon-${name}.service`);
const where = ["--name", name, "--unit-dir", units];
const icon = (...args: string[]) => sh([BINARY, ...args]);
const systemdRuns = existsSync("/run/systemd/system");

afterAll(() => rmSync(root, { recursive: true, force: true }));

describeWith(["binary", "systemd-analyze"], "icon service (compiled binary)", () => {
  test("install --no-start writes a unit for this binary that systemd-analyze verifies without a word", () => {
    const r = icon("service", "install", ...where, "--data-dir", dataDir, "--no-start", "--json");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ unit: `icon-${name}.service`, path: unitFile, verified: "ok", started: false });
    expect(readFileSync(unitFile, "utf8")).toContain(`\nExecStart=${BINARY} node start --data-dir ${dataDir} --log-format json\n`);
    const v = sh(["systemd-analyze", "verify", unitFile]);
    expect(v.exitCode).toBe(0);
    expect(v.stdout.toString() + v.stderr.toString()).toBe("");
  });

  test("systemd-analyze does check: the same unit with a binary that does not exist fails", () => {
    const broken = join(root, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "icon.service"), readFileSync(unitFile, "utf8").replace(`ExecStart=${BINARY}`, "ExecStart=/nonexistent/icon"));
    const v = sh(["systemd-analyze", "verify", join(broken, "icon.service")]);
    expect(v.exitCode).not.toBe(0);
    expect(v.stderr.toString()).toContain("/nonexistent/icon");
  });

  test("status: exit 3 while no node answers, exit 0 with the node's id once one runs on the unit's data dir", async () => {
    const down = icon("service", "status", ...where, "--json");
    expect(down.exitCode).toBe(3);
    expect(JSON.parse(down.stdout.toString())).toMatchObject({ installed: true, dataDir, node: { answers: false } });

    const node = Bun.spawn([BINARY, "node", "start", "--data-dir", dataDir, "--listen", "127.0.0.1", "--dht-port", "0", "--peer-port", "0", "--engine", "external"], { stdout: "ignore", stderr: "pipe" });
    try {
      let up = icon("service", "status", ...where, "--json");
      for (let i = 0; i < 100 && up.exitCode !== 0; i++) {
        await Bun.sleep(100);
        up = icon("service", "status", ...where, "--json");
      }
      expect(up.exitCode).toBe(0);
      const nodeId = JSON.parse(icon("node", "status", "--data-dir", dataDir, "--json").stdout.toString()).nodeId;
      expect(JSON.parse(up.stdout.toString()).node).toMatchObject({ answers: true, nodeId, pid: node.pid });
    } finally {
      node.kill("SIGTERM");
      await node.exited;
    }
  });

  test.skipIf(systemdRuns)("without --no-start where systemd does not run: the unit is written, exit 9 says so", () => {
    const r = icon("service", "install", ...where, "--data-dir", dataDir);
    expect(r.exitCode).toBe(9);
    expect(r.stderr.toString()).toContain("systemd is not running on this machine");
    expect(r.stderr.toString()).toContain(`systemctl enable --now icon-${name}.service`);
    expect(existsSync(unitFile)).toBe(true);
  });

  test.skipIf(process.getuid?.() !== 0)("a user other than root cannot install into /etc/systemd/system", () => {
    const r = sh(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", BINARY, "service", "install", "--name", name, "--no-start"]);
    expect(r.exitCode).toBe(9);
    expect(r.stderr.toString()).toContain(`needs root: it writes /etc/systemd/system/icon-${name}.service`);
  });

  test("from source (bun src/cli/main.ts) install is refused: the unit would run bun", () => {
    const r = cli("service", "install", ...where, "--data-dir", dataDir, "--no-start");
    expect(r.exitCode).toBe(9);
    expect(r.stderr.toString()).toContain("runs from source");
  });

  test("uninstall removes the unit and keeps the data dir; a second uninstall finds nothing (exit 1)", () => {
    const r = icon("service", "uninstall", ...where);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toContain(`kept the data dir ${dataDir}`);
    expect(existsSync(unitFile)).toBe(false);
    expect(existsSync(join(dataDir, "identity.json"))).toBe(true);
    expect(icon("service", "uninstall", ...where).exitCode).toBe(1);
  });
});
