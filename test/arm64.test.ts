/**
 * The arm64 binary runs: under qemu-user with Debian's arm64 glibc, it prints the same version as the x64
 * binary, lists every command in its help, and simulates a 100-node DHT with 5% loss in which every
 * lookup succeeds. About 20 s, nearly all of it the emulated benchmark (the same run takes 3 s natively).
 */
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { REGISTRY } from "../src/cli/registry.ts";
import { ARM64_SYSROOT, BINARY, ROOT_DIR, describeWith } from "./support/needs.ts";
import { sh } from "./support/run.ts";

const ARM64 = join(ROOT_DIR, "dist/icon-linux-arm64");

function arm64(...args: string[]) {
  return Bun.spawnSync(["qemu-aarch64-static", ARM64, ...args], {
    env: { ...process.env, QEMU_LD_PREFIX: ARM64_SYSROOT },
    stdout: "pipe",
    stderr: "pipe",
  });
}

const x64Version = () => sh([BINARY, "version"]).stdout.toString().trim();

describeWith(["binary", "qemu-arm64"], "the arm64 binary under qemu", () => {
  // Built every time (3 s once Bun's arm64 runtime is cached) from this tree, which setup.sh has just
  // built dist/icon from, and labelled with dist/icon's version: a stale arm64 binary is never tested.
  beforeAll(() => {
    const env = { ...process.env, ICON_BUILD_VERSION: x64Version() };
    const build = Bun.spawnSync([process.execPath, "build.ts", "--target", "arm64"], { cwd: ROOT_DIR, env, stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`bun build.ts --target arm64 failed: ${build.stderr}`);
  }, 180_000);

  test("is an AArch64 executable, not the x64 one", async () => {
    const header = Buffer.from(await Bun.file(ARM64).slice(0, 20).arrayBuffer());
    expect(header.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(header.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
  });

  test("prints the same version as the x64 binary", () => {
    const r = arm64("version");
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString().trim()).toBe(x64Version());
  }, 30_000);

  test("--help lists every command", () => {
    const r = arm64("--help");
    expect(r.exitCode).toBe(0);
    const help = r.stdout.toString();
    expect(help).toContain("usage: icon <command>");
    for (const e of REGISTRY.filter((x) => !x.hidden)) expect(help).toContain(`  ${e.name} `);
  }, 30_000);

  test("bench dht with 100 nodes at 5% loss: every lookup succeeds", () => {
    const r = arm64("bench", "dht", "--nodes", "100", "--lookups", "100", "--loss", "0.05", "--json");
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(report).toMatchObject({ nodes: 100, loss: 0.05, lookups: 100, abortedLookups: 0, successRate: 1 });
    expect(report.puts.medianReplicas).toBe(20); // every value stored on k = 20 nodes
    expect(report.hops.median).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
