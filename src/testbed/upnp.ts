/**
 * miniupnpd in each upnp home router: Debian's `miniupnpd-iptables`, started by us with a config we
 * write (the package's init script needs a file only the `miniupnpd` metapackage ships), in the
 * foreground (-d) inside the home router's namespace: IPv4 only (-4), unless the home has an IPv6
 * firewall (firewall6.ts), where it also opens pinholes (UPnP IGDv2 WANIPv6FirewallControl, PCP MAP). Its
 * PID is recorded the moment it is spawned; a PID is trusted only while /proc shows miniupnpd with this
 * config, so a recycled PID is never killed.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import { argvOf } from "../engine/daemon/processes.ts";
import { netnsPath } from "./netns.ts";
import type { NodePlan } from "./plan.ts";
import { logTail } from "../util/command.ts";

const upnpFiles = (dir: string) => ({ config: join(dir, "miniupnpd.conf"), log: join(dir, "miniupnpd.log"), pidfile: join(dir, "miniupnpd.pid") });

/** Home routers that run miniupnpd. */
export const upnpNodes = (nodes: NodePlan[]) => nodes.filter((n) => n.nat?.upnp);

export function isMiniupnpd(pid: number | undefined, n: NodePlan): boolean {
  if (!pid || !n.nat?.upnp) return false;
  const argv = argvOf(pid) ?? [];
  return argv.some((a) => a.endsWith("miniupnpd")) && argv.includes(upnpFiles(n.nat.upnp.dir).config);
}

/** Starts miniupnpd in `n`'s namespace; `spawned(pid)` records it before anything can fail. */
export async function startMiniupnpd(n: NodePlan, spawned: (pid: number) => void, timeoutMs = 10_000): Promise<number> {
  const { dir, config, ipv6 } = n.nat!.upnp!;
  const f = upnpFiles(dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(f.config, config);
  rmSync(f.pidfile, { force: true });
  const log = openSync(f.log, "w");
  let child;
  try {
    // nsenter, not `ip netns exec`: only the network namespace differs (dockerd/daemon.ts does the same).
    child = spawn("nsenter", [`--net=${netnsPath(n.netns)}`, "miniupnpd", "-f", f.config, "-d", ...(ipv6 ? [] : ["-4"]), "-P", f.pidfile], { detached: true, stdio: ["ignore", log, log] });
  } finally {
    closeSync(log);
  }
  let exited: number | null = null;
  child.on("exit", (code) => (exited = code ?? -1));
  child.on("error", () => (exited = -1));
  child.unref();
  const pid = child.pid;
  if (!pid) throw new IconError("UNSUPPORTED", "cannot start miniupnpd", "Install it: apt-get install miniupnpd-iptables (scripts/setup.sh does).");
  spawned(pid);
  const deadline = Date.now() + timeoutMs;
  // Ready once it listens for NAT-PMP/PCP: it logs that after the HTTP (IGD) socket is up.
  while (!readLog(f.log).includes("Listening for NAT-PMP/PCP traffic")) {
    if (exited !== null)
      throw new IconError("FAILED", `miniupnpd in ${n.name} exited (${exited}): ${logTail(f.log, 3)}`, `See ${f.log}; is miniupnpd-iptables installed (scripts/setup.sh)?`);
    if (Date.now() > deadline) throw new IconError("TIMEOUT", `miniupnpd in ${n.name} did not start within ${timeoutMs / 1000} s`, `See ${f.log}.`);
    await Bun.sleep(20);
  }
  return pid;
}

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Stops `n`'s miniupnpd if `pid` is really it (SIGTERM, then SIGKILL); true if it was running. */
export async function stopMiniupnpd(pid: number | undefined, n: NodePlan): Promise<boolean> {
  if (!isMiniupnpd(pid, n)) return false;
  process.kill(pid!, "SIGTERM");
  for (let i = 0; i < 100 && isMiniupnpd(pid, n); i++) await Bun.sleep(20);
  if (isMiniupnpd(pid, n)) process.kill(pid!, "SIGKILL");
  for (let i = 0; i < 50 && isMiniupnpd(pid, n); i++) await Bun.sleep(20);
  return true;
}
