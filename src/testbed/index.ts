/**
 * The testbed as a library, for tests and benchmarks of other parts:
 *
 *   const st = await up({ name: "dht1", topology: thesisTopology(), docker: false });
 *   Bun.spawn(inHost(st, "UD", ["ping", "-c", "1", address(st, "IEP1")]));
 *   await down("dht1");
 *
 * Home networks, IPv6 and per-link numbering: `topology: withVariant(thesisTopology(), { nat: [["IEP2",
 * "upnp"]], ipv6: true })`; a NAT host's status has `nat` (its public address, the IGD's URL...).
 *
 * With `engines: true` each IEP host also runs its own Docker engine: `dockerSocket(st, "IEP2")`, and
 * `copyImage(ref, { to: dockerSocket(st, "IEP2") })` seeds it from the main engine.
 *
 * The CLI (`icon testbed ...`) is a thin layer over the same functions; `status --json` prints a
 * TestbedStatus.
 */
import { IconError } from "../errors.ts";
import type { StatusHost, TestbedStatus } from "./state.ts";
import { netnsPath } from "./netns.ts";

export { down, status, up, type UpOptions, type TestbedEvent } from "./lifecycle.ts";
export { randomTopology, thesisTopology } from "./builtin.ts";
export { parseTopology, withLoss, withVariant, type NatKind, type NetworkSpec, type Variant } from "./topology.ts";
export { pingMatrix, rttTargets } from "./ping.ts";
export type { TestbedStatus, StatusHost, StatusLink, StatusNat, StatusRouter } from "./state.ts";
export { copyImage, MAIN_DOCKER_SOCKET, type CopyImageOptions } from "./docker.ts";

function nodeOf(st: TestbedStatus, name: string): { netns: string; address?: string } {
  const n = st.hosts.find((h) => h.name === name) ?? st.routers.find((r) => r.name === name);
  if (!n) throw new IconError("NOT_FOUND", `no host or router "${name}" in testbed ${st.name}`, "Run `icon testbed status` for the names.");
  return n;
}

/**
 * The argv that runs `cmd` inside a host's (or router's) network namespace. nsenter changes only the
 * network namespace; `ip netns exec` also remounts /sys, and a node started so could not start its
 * engine (dockerd finds no cgroups there: "Devices cgroup isn't mounted").
 */
export function inHost(st: TestbedStatus, name: string, cmd: string[]): string[] {
  return ["nsenter", `--net=${netnsPath(nodeOf(st, name).netns)}`, ...cmd];
}

function hostOf(st: TestbedStatus, host: string): StatusHost {
  const h = st.hosts.find((x) => x.name === host);
  if (!h) throw new IconError("NOT_FOUND", `no host "${host}" in testbed ${st.name}`, "Run `icon testbed status` for the host names.");
  return h;
}

/** A host's address. */
export function address(st: TestbedStatus, host: string): string {
  return hostOf(st, host).address;
}

/** A host's IPv6 address (a testbed up with ipv6). */
export function address6(st: TestbedStatus, host: string): string {
  const a = hostOf(st, host).address6;
  if (!a) throw new IconError("USAGE", `testbed ${st.name} has no IPv6`, "Bring it up with --ipv6 (\"ipv6\": true).");
  return a;
}

/** The socket of a host's own Docker engine (`up` with `engines: true`). */
export function dockerSocket(st: TestbedStatus, host: string): string {
  const h = hostOf(st, host);
  if (!h.dockerSocket)
    throw new IconError("NOT_FOUND", `host ${host} of testbed ${st.name} has no Docker engine of its own`,
      "Bring the testbed up with --engines (engines: true); only IEP hosts and hosts with \"docker\": true get one.");
  return h.dockerSocket;
}
