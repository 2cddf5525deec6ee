/**
 * What `icon service` asks of the machine's systemd, behind one seam: tests replace it to follow the
 * path where systemd runs (this machine and CI have no systemd as PID 1).
 */
import { existsSync } from "node:fs";

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Systemd {
  /** Whether systemd manages this machine (sd_booted(3): /run/systemd/system exists). */
  running(): boolean;
  systemctl(args: string[]): Ran;
  /** `systemd-analyze verify FILE`, or undefined when systemd-analyze is not installed. */
  verify(unitFile: string): Ran | undefined;
}

function run(cmd: string[]): Ran {
  const p = Bun.spawnSync(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? 1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

export const hostSystemd: Systemd = {
  running: () => existsSync("/run/systemd/system"),
  systemctl: (args) => run(["systemctl", ...args]),
  verify: (unitFile) => (Bun.which("systemd-analyze") ? run(["systemd-analyze", "verify", unitFile]) : undefined),
};
