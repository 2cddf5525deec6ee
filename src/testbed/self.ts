/**
 * How this program starts itself again (the delay process is `icon testbed delayd`): the compiled
 * binary is its own executable; from source it is bun plus the CLI entry point.
 */
import { join } from "node:path";

/** True inside a `bun build --compile` executable (its modules live under /$bunfs/). */
export const isCompiled = import.meta.path.startsWith("/$bunfs/") || import.meta.path.includes("~BUN");

export function selfCommand(args: string[]): string[] {
  return isCompiled ? [process.execPath, ...args] : [process.execPath, join(import.meta.dir, "../cli/main.ts"), ...args];
}
