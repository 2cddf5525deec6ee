/**
 * The testbed as a library, for tests and benchmarks of other parts:
 *
 *   const st = await up({ name: "dht1", topology: thesisTopology(), docker: false });
 *   Bun.spawn(inHost(st, "UD", ["ping", "-c", "1", address(st, "IEP1")]));
 *   await down("dht1");
 *
 * The CLI (`icon testbed ...`) is a thin layer over the same functions; `status --json` prints a
 * TestbedStatus.
 */
import { IconError } from "../errors.ts";
import type { TestbedStatus } from "./state.ts";

export { down, status, up, type UpOptions, type TestbedEvent } from "./lifecycle.ts";
export { randomTopology, thesisTopology } from "./builtin.ts";
export { parseTopology, withLoss, type Topology } from "./topology.ts";
export { pingMatrix, rttTargets } from "./ping.ts";
export type { TestbedStatus, StatusHost, StatusLink, StatusRouter } from "./state.ts";

function nodeOf(st: TestbedStatus, name: string): { netns: string; address?: string } {
  const n = st.hosts.find((h) => h.name === name) ?? st.routers.find((r) => r.name === name);
  if (!n) throw new IconError("NOT_FOUND", `no host or router "${name}" in testbed ${st.name}`, "Run `icon testbed status` for the names.");
  return n;
}

/** The argv that runs `cmd` inside a host's (or router's) network namespace. */
export function inHost(st: TestbedStatus, name: string, cmd: string[]): string[] {
  return ["ip", "netns", "exec", nodeOf(st, name).netns, ...cmd];
}

/** A host's address. */
export function address(st: TestbedStatus, host: string): string {
  const h = st.hosts.find((x) => x.name === host);
  if (!h) throw new IconError("NOT_FOUND", `no host "${host}" in testbed ${st.name}`, "Run `icon testbed status` for the host names.");
  return h.address;
}
