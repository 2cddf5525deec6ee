/**
 * Tests that need root, Docker or the compiled binary. In CI (CI=true) a missing prerequisite is a
 * failing test that says what is missing; elsewhere the suite is skipped with the reason printed.
 */
import { describe, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";

export type Need = "root" | "docker" | "binary" | "systemd-analyze" | "qemu-arm64" | "chromium" | "miniupnpd";

export const ROOT_DIR = join(import.meta.dir, "../..");
export const BINARY = join(ROOT_DIR, "dist/icon");
/** arm64 glibc for qemu-user (Debian's libc6-arm64-cross), given to it as QEMU_LD_PREFIX. */
export const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
/** Debian's chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = "/usr/bin/chromium";
const inCI = process.env.CI === "true" || process.env.CI === "1";

function dockerAnswers(): boolean {
  try {
    const p = Bun.spawnSync(["docker", "info", "--format", "{{.ServerVersion}}"], { stdout: "pipe", stderr: "pipe" });
    return p.exitCode === 0;
  } catch {
    return false;
  }
}

const checks: Record<Need, () => string | undefined> = {
  root: () => (process.getuid?.() === 0 ? undefined : "needs root (run the tests as root: sudo make test)"),
  docker: () => (dockerAnswers() ? undefined : "needs a running Docker engine (scripts/setup.sh starts dockerd as root)"),
  binary: () => (existsSync(BINARY) ? undefined : `needs the compiled binary ${BINARY} (run scripts/setup.sh or bun build.ts)`),
  "systemd-analyze": () => (Bun.which("systemd-analyze") ? undefined : "needs systemd-analyze (Debian package systemd; scripts/setup.sh installs it)"),
  "qemu-arm64": () => (Bun.which("qemu-aarch64-static") && existsSync(join(ARM64_SYSROOT, "lib/ld-linux-aarch64.so.1")) ? undefined
    : "needs qemu-aarch64-static and arm64 glibc (Debian packages qemu-user-static, libc6-arm64-cross; scripts/setup.sh installs them)"),
  chromium: () => (existsSync(CHROMIUM) ? undefined : `needs ${CHROMIUM} (Debian package chromium; scripts/setup.sh installs it)`),
  miniupnpd: () => (Bun.which("miniupnpd", { PATH: `${process.env.PATH}:/usr/sbin` }) && Bun.which("upnpc") ? undefined
    : "needs miniupnpd and upnpc (Debian packages miniupnpd-iptables, miniupnpc; scripts/setup.sh installs them)"),
};

/** The first unmet need, or undefined. */
export function missing(...needs: Need[]): string | undefined {
  for (const n of needs) {
    const why = checks[n]();
    if (why) return why;
  }
  return undefined;
}

/** `describe` that runs only when every need is met; fails loudly in CI when one is not. */
export function describeWith(needs: Need[], name: string, fn: () => void): void {
  const why = missing(...needs);
  if (!why) return describe(name, fn);
  if (inCI) {
    describe(name, () => test(`prerequisite: ${why}`, () => {
      throw new Error(`${name}: ${why}`);
    }));
    return;
  }
  process.stderr.write(`skipping "${name}": ${why}\n`);
  describe.skip(name, fn);
}

/**
 * Whether a measured RTT shows the emulated delay: never below the target (less a little for the delay
 * process's early release), and not far above it. Precision is measured by `icon bench testbed`, not
 * asserted here: a busy machine adds milliseconds of scheduling delay that say nothing about the testbed.
 */
export function rttShowsDelay(measuredMs: number, targetMs: number): boolean {
  return measuredMs >= targetMs - 0.5 && measuredMs <= targetMs * 1.2 + 2.5;
}
