/**
 * Starting, finding and stopping the delay process (`icon testbed delayd --name NAME`). It runs
 * detached, logs to /run/icon-testbed/NAME.delayd.log, and says it is ready by writing its PID to
 * NAME.delayd.ready once every queue is bound. A PID is trusted only if /proc shows that command line,
 * so a recycled PID is never killed.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { IconError } from "../errors.ts";
import { argvOf } from "../engine/daemon/processes.ts";
import { delaydLogPath, STATE_DIR } from "./names.ts";
import { selfCommand } from "./self.ts";
import { logTail } from "../util/command.ts";

export const readyPath = (testbed: string) => `${STATE_DIR}/${testbed}.delayd.ready`;

export function isDelayd(pid: number, testbed: string): boolean {
  const argv = argvOf(pid) ?? [];
  const i = argv.indexOf("delayd");
  return i > 0 && argv[i - 1] === "testbed" && argv[argv.indexOf("--name") + 1] === testbed;
}

export async function startDelayd(testbed: string, timeoutMs = 15_000): Promise<number> {
  rmSync(readyPath(testbed), { force: true });
  const log = openSync(delaydLogPath(testbed), "a");
  const [cmd, ...args] = selfCommand(["testbed", "delayd", "--name", testbed]);
  const child = spawn(cmd!, args, { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  let exited: number | null = null;
  child.on("exit", (code) => (exited = code ?? -1));
  child.unref();
  const pid = child.pid;
  if (!pid) throw new IconError("FAILED", "could not start the delay process", `See ${delaydLogPath(testbed)}.`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(readyPath(testbed))) {
    if (exited !== null) throw new IconError("FAILED", `the delay process exited (${exited}): ${logTail(delaydLogPath(testbed), 4)}`, `See ${delaydLogPath(testbed)}.`);
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      throw new IconError("TIMEOUT", `the delay process did not bind its queues within ${timeoutMs / 1000} s`, `See ${delaydLogPath(testbed)}.`);
    }
    await Bun.sleep(20);
  }
  return pid;
}

/** Stops the delay process if `pid` is really this testbed's; true if it was running. */
export async function stopDelayd(pid: number | undefined, testbed: string): Promise<boolean> {
  if (!pid || !isDelayd(pid, testbed)) return false;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && isDelayd(pid, testbed); i++) await Bun.sleep(20);
  if (isDelayd(pid, testbed)) process.kill(pid, "SIGKILL");
  for (let i = 0; i < 50 && isDelayd(pid, testbed); i++) await Bun.sleep(20);
  return true;
}
