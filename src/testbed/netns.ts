/**
 * Namespaces, veth links and the per-node configuration: sysctls, addresses, routes, the mangle rules
 * that feed the delay process, tbf. Each node is configured by one shell script run inside its
 * namespace, so bringing up a node costs one process, not dozens.
 */
import { existsSync } from "node:fs";
import { IconError } from "../errors.ts";
import type { NodePlan, Plan } from "./plan.ts";
import { run } from "../util/command.ts";
import { must } from "./shell.ts";

export const netnsPath = (netns: string) => `/run/netns/${netns}`;
export const netnsExists = (netns: string) => existsSync(netnsPath(netns));

export async function addNamespace(netns: string): Promise<void> {
  await must(["ip", "netns", "add", netns], `creating namespace ${netns}`);
}

/** Removes a namespace name; true if it existed. */
export async function deleteNamespace(netns: string): Promise<boolean> {
  if (!netnsExists(netns)) return false;
  const r = await run(["ip", "netns", "delete", netns]);
  if (r.code !== 0 && netnsExists(netns)) throw new IconError("FAILED", `deleting namespace ${netns} failed: ${r.stderr.trim()}`, `Run: ip netns delete ${netns}`);
  return true;
}

/** PIDs of processes whose network namespace is `netns`. */
export async function pidsIn(netns: string): Promise<number[]> {
  const r = await run(["ip", "netns", "pids", netns]);
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Every veth pair in one `ip -batch` run; each end is created directly inside its namespace. */
export async function addLinks(plan: Plan): Promise<void> {
  const lines: string[] = [];
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  for (const l of plan.topology.links) {
    const a = byName.get(l.a)!, b = byName.get(l.b)!;
    const ai = a.ifaces.find((i) => i.peerNode === b.name)!, bi = b.ifaces.find((i) => i.peerNode === a.name)!;
    lines.push(`link add ${ai.name} netns ${a.netns} type veth peer name ${bi.name} netns ${b.netns}`);
  }
  await must(["ip", "-batch", "-"], "creating veth links", lines.join("\n") + "\n");
}

/** tbf burst: at least 4 full frames, or 1 ms at the rate (DESIGN.md: tbf on the veth works with the delay). */
function tbf(iface: string, rateMbit: number): string {
  const burst = Math.max(4 * 1514, Math.round((rateMbit * 1e6) / 8 / 1000));
  return `tc qdisc replace dev ${iface} root tbf rate ${rateMbit}mbit burst ${burst} latency 50ms`;
}

/** The shell script that configures one node inside its namespace. */
export function configScript(n: NodePlan): string {
  const router = n.kind === "router";
  const ipBatch = [
    "link set lo up",
    ...n.ifaces.flatMap((i) => [`addr add ${i.address} peer ${i.peerAddress} dev ${i.name}`, `link set ${i.name} up`]),
    ...n.routes.map((r) => `route replace ${r.to} via ${r.via} dev ${r.dev}`),
  ];
  const sysctl = [
    `echo ${router ? 1 : 0} > ipv4/ip_forward`,
    // Every hop must answer every probe (thesis 3.4: rate-limited ICMP lost trace answers in bursts).
    "echo 0 > ipv4/icmp_ratelimit",
    "echo 0 > ipv4/icmp_ratemask",
    // Time-exceeded comes from the interface the probe entered by, as on real routers.
    "echo 1 > ipv4/icmp_errors_use_inbound_ifaddr",
    "for f in ipv4/conf/*/rp_filter; do echo 0 > $f; done",
    "for f in ipv4/conf/*/send_redirects; do echo 0 > $f; done",
    // No IPv6 chatter (router solicitations, MLD) on the emulated links.
    "for f in ipv6/conf/*/disable_ipv6; do echo 1 > $f; done 2>/dev/null || true",
  ];
  const lines = ["set -e", "cd /proc/sys/net", ...sysctl, "ip -batch - <<'EOF'", ...ipBatch, "EOF"];
  if (n.rules.length)
    lines.push("iptables-restore <<'EOF'", "*mangle", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ...n.rules.map((r) => `-A ${r}`), "COMMIT", "EOF");
  for (const i of n.ifaces) if (i.rateMbit) lines.push(tbf(i.name, i.rateMbit));
  return lines.join("\n") + "\n";
}

export async function configureNode(n: NodePlan): Promise<void> {
  await must(["ip", "netns", "exec", n.netns, "sh", "-c", configScript(n)], `configuring ${n.name} (${n.netns})`);
}
