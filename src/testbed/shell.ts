/**
 * The testbed's way of running the system tools it drives (ip, iptables-restore, tc): a failure is an
 * IconError that quotes the tool's own message; and a bounded parallel runner for them.
 */
import { IconError } from "../errors.ts";
import { complaint, run } from "../util/command.ts";

/** Runs `cmd` and throws FAILED with `what` and the tool's stderr when it exits non-zero. */
export async function must(cmd: string[], what: string, stdin?: string): Promise<string> {
  const r = await run(cmd, stdin);
  if (r.code !== 0)
    throw new IconError("FAILED", `${what} failed: ${complaint(r)}`,
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
