/**
 * One `up` or `down` at a time per testbed name: an O_EXCL lock file holding the PID. A lock whose
 * process is gone (a crashed `up`) is taken over, so a crash never blocks the next run.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { IconError } from "../errors.ts";
import { STATE_DIR } from "./names.ts";

const lockPath = (testbed: string) => `${STATE_DIR}/${testbed}.lock`;

function holder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export async function withLock<T>(testbed: string, fn: () => Promise<T>, waitMs = 60_000): Promise<T> {
  mkdirSync(STATE_DIR, { recursive: true });
  const path = lockPath(testbed);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = holder(path);
      if (pid === undefined || pid === process.pid) {
        rmSync(path, { force: true }); // stale: its process is gone
        continue;
      }
      if (Date.now() > deadline)
        throw new IconError("CONFLICT", `testbed ${testbed} is being changed by process ${pid}`, "Wait for it to finish, or stop it and run `icon testbed down`.");
      await Bun.sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
