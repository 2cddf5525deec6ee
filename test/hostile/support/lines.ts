/** A spawned helper process driven by JSON lines: send one, read its one-line answer. */
import type { Subprocess } from "bun";

export interface LineProcess {
  proc: Subprocess<"pipe", "pipe", "pipe">;
  /** The next line the process prints, parsed. */
  read<T = unknown>(timeoutMs?: number): Promise<T>;
  ask<T = unknown>(command: unknown, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export function lineProcess(argv: string[]): LineProcess {
  const proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let buf = "";
  const decoder = new TextDecoder();
  const read = async <T>(timeoutMs = 10_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    while (!buf.includes("\n")) {
      const chunk = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => "timeout" as const)]);
      if (chunk === "timeout") throw new Error(`${argv.at(-2)}: no answer within ${timeoutMs} ms; stderr: ${await new Response(proc.stderr).text().catch(() => "")}`);
      if (chunk.done) throw new Error(`${argv.at(-2)} exited (${await proc.exited}): ${await new Response(proc.stderr).text()}`);
      buf += decoder.decode(chunk.value);
    }
    const i = buf.indexOf("\n");
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return JSON.parse(line) as T;
  };
  return {
    proc,
    read,
    ask: (command, timeoutMs) => {
      proc.stdin.write(JSON.stringify(command) + "\n");
      proc.stdin.flush();
      return read(timeoutMs);
    },
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
