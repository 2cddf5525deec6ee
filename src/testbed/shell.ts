/**
 * Runs the system tools the testbed drives (ip, iptables-restore, tc, docker), capturing output, and
 * turns a failure into an IconError that quotes the tool's own message.
 */
import { readFileSync } from "node:fs";
import { IconError } from "../errors.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(cmd: string[], stdin?: string): Promise<RunResult> {
  let proc;
  try {
    proc = Bun.spawn(cmd, { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new IconError("UNSUPPORTED", `cannot run ${cmd[0]}: ${(e as Error).message}`, `Install ${cmd[0]} (scripts/setup.sh installs what the testbed needs).`);
  }
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Runs `cmd` and throws FAILED with `what` and the tool's stderr when it exits non-zero. */
export async function must(cmd: string[], what: string, stdin?: string): Promise<string> {
  const r = await run(cmd, stdin);
  if (r.code !== 0)
    throw new IconError("FAILED", `${what} failed: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join("; ")}`,
      "Run `icon testbed down` and try again; if it persists, check the kernel supports veth, NFQUEUE and tbf.");
  return r.stdout;
}

/** Runs tasks with at most `limit` in flight (the machine has few cores; the tools are short-lived). */
export async function parallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The last `lines` lines of a log file, joined on one line for an error message. */
export function logTail(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-lines).join("; ");
  } catch {
    return "(no log)";
  }
}
