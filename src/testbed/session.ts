/**
 * A testbed for a benchmark: reused when one with that name is up already (and then left up), otherwise
 * brought up with the thesis topology and taken down again at the end. Benchmarks use their own testbed
 * name so they never disturb a testbed someone else is using.
 */
import { thesisTopology } from "./builtin.ts";
import { down, up } from "./lifecycle.ts";
import { readState, type TestbedStatus } from "./state.ts";
import type { NetworkSpec } from "./topology.ts";

export interface TestbedSession {
  status: TestbedStatus;
  host(name: string): TestbedStatus["hosts"][number];
  /** Runs a command inside a host's namespace; resolves with its stdout, throws with its stderr. */
  exec(host: string, cmd: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function openTestbed(o: { name: string; topology?: NetworkSpec; keep?: boolean; progress?: (human: string) => void }): Promise<TestbedSession> {
  const existed = readState(o.name)?.phase === "up";
  const status = await up({ name: o.name, topology: o.topology ?? thesisTopology(), docker: false, progress: (_, human) => o.progress?.(human) });
  const hosts = new Map(status.hosts.map((h) => [h.name, h]));
  const host = (name: string) => {
    const h = hosts.get(name);
    if (!h) throw new Error(`testbed ${o.name} has no host ${name}`);
    return h;
  };
  return {
    status,
    host,
    async exec(name, cmd) {
      const p = Bun.spawn(["ip", "netns", "exec", host(name).netns, ...cmd], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      if (code !== 0) throw new Error(`${cmd.join(" ")} in ${name} exited ${code}: ${err.trim().split("\n").slice(-3).join("; ")}`);
      return out;
    },
    async close() {
      if (!existed && !o.keep) await down(o.name);
    },
  };
}
