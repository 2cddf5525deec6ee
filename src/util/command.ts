/**
 * Runs a system tool (ip, iptables, umount...) to its end with its output captured. A tool that cannot
 * be started at all is an UNSUPPORTED error naming it; a non-zero exit is the caller's to judge.
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
    throw new IconError("UNSUPPORTED", `cannot run ${cmd[0]}: ${(e as Error).message}`, `Install ${cmd[0]} (scripts/setup.sh installs the tools icon uses).`);
  }
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** The tool's own last lines of complaint, for an error message. */
export const complaint = (r: RunResult) => (r.stderr || r.stdout).trim().split("\n").slice(-3).join("; ");

/** The last `lines` lines of a log file, joined on one line for an error message. */
export function logTail(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-lines).join("; ");
  } catch {
    return "(no log)";
  }
}
