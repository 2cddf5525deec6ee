/** Running commands from tests: the CLI from source (no build needed) and any command, captured. */
import { join } from "node:path";
import { ROOT_DIR } from "./needs.ts";

/** `icon` from source: the same commands as dist/icon without building it. */
export const CLI = [process.execPath, join(ROOT_DIR, "src/cli/main.ts")];

/** Runs a command to its end; stdout and stderr captured. */
export const sh = (cmd: string[]) => Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });

/** Runs `icon ARGS...` from source. */
export const cli = (...args: string[]) => sh([...CLI, ...args]);

/** `docker ARGS...` to its end: its stdout, or an error that quotes docker's own message. */
export function docker(args: string[], stdin?: Uint8Array): Buffer {
  const p = Bun.spawnSync(["docker", ...args], { stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`docker ${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout;
}
