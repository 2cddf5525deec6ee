/**
 * Namespaces, veth links and the per-node configuration: sysctls, addresses, routes, the mangle rules
 * that feed the delay process, tbf. Each node is configured by one shell script run inside its
 * namespace, so bringing up a node costs one process, not dozens.
 */
import { existsSync } from "node:fs";
import { IconError } from "../errors.ts";
import { networkOf, type NodePlan, type Plan } from "./plan.ts";
import { clientAddress } from "./addressing.ts";
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
  for (const l of networkOf(plan).links) {
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

const addr = (address: string, len: number | undefined, peer: string, dev: string) =>
  `addr add ${len ? `${address}/${len}` : `${address} peer ${peer}`} dev ${dev}`;

/** iptables-restore input for one table: its built-in chains, extra chains, then the rules. */
function table(name: string, builtins: string[], chains: string[], rules: string[]): string[] {
  return [`*${name}`, ...builtins.map((c) => `:${c} ACCEPT [0:0]`), ...chains.map((c) => `:${c} - [0:0]`), ...rules.map((r) => `-A ${r}`), "COMMIT"];
}
const MANGLE = ["PREROUTING", "POSTROUTING"];
const ND_FIRST = MANGLE.flatMap((c) => ["neighbour-solicitation", "neighbour-advertisement"].map((t) => `${c} -p ipv6-icmp --icmpv6-type ${t} -j ACCEPT`));

/** The shell script that configures one node inside its namespace. */
export function configScript(n: NodePlan): string {
  const router = n.kind === "router";
  const six = n.routes6 !== undefined;
  const ipBatch = [
    "link set lo up",
    ...n.ifaces.flatMap((i) => [
      addr(i.address, i.prefixLen, i.peerAddress, i.name),
      // nodad: usable at once; there is nobody else on a veth.
      ...(i.address6 ? [`${addr(i.address6, i.prefixLen6, i.peerAddress6!, i.name)} nodad`] : []),
      `link set ${i.name} up`,
    ]),
    // A client's extra networks: one address per /24 on its own interface (clientAddress).
    ...Array.from({ length: n.clientBlock?.count ?? 0 }, (_, k) => `addr add ${clientAddress(n.clientBlock!.prefix, k)}/32 dev ${n.ifaces[0]!.name}`),
    ...n.routes.map((r) => `route replace ${r.to} via ${r.via} dev ${r.dev}`),
    // `ip -batch` takes no -6 per line: the family follows from the addresses, "::/0" for a default.
    // onlink: IPv6 refuses a gateway until the link has carrier, which the peer's end gives later.
    ...(n.routes6 ?? []).map((r) => `route replace ${r.to === "default" ? "::/0" : r.to} via ${r.via} dev ${r.dev} onlink`),
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
    ...(six
      ? [
        "for f in ipv6/conf/*/disable_ipv6; do echo 0 > $f; done",
        // No duplicate address detection (addresses usable at once), no router advertisements or
        // solicitations: addresses and routes come from the plan only.
        "for f in ipv6/conf/*/accept_dad; do echo 0 > $f; done",
        "for f in ipv6/conf/*/accept_ra; do echo 0 > $f; done",
        "for f in ipv6/conf/*/router_solicitations; do echo 0 > $f; done",
        `echo ${router ? 1 : 0} > ipv6/conf/all/forwarding`,
        "echo 0 > ipv6/icmp/ratelimit",
        // An empty mask: no ICMPv6 type is rate limited, not even by the global limit.
        "echo > ipv6/icmp/ratemask",
      ]
      // No IPv6 chatter (router solicitations, MLD) on the emulated links.
      : ["for f in ipv6/conf/*/disable_ipv6; do echo 1 > $f; done 2>/dev/null || true"]),
  ];
  const lines = ["set -e", "cd /proc/sys/net", ...sysctl, "ip -batch - <<'EOF'", ...ipBatch, "EOF"];
  const nat = n.nat?.tables;
  if (nat)
    // miniupnpd programs the legacy tables, so a NAT node keeps all its IPv4 rules there.
    lines.push("iptables-legacy-restore <<'EOF'",
      ...table("raw", ["PREROUTING"], [], nat.raw),
      ...table("nat", ["PREROUTING", "POSTROUTING"], nat.chains.nat, nat.nat),
      ...table("mangle", MANGLE, nat.chains.mangle, [...nat.mangle, ...n.rules]),
      ...table("filter", ["FORWARD"], nat.chains.filter, nat.filter), "EOF");
  else if (n.rules.length) lines.push("iptables-restore <<'EOF'", ...table("mangle", MANGLE, [], n.rules), "EOF");
  // The delay process reads IPv6 packets from the same queues (it copies metadata only). Neighbour
  // discovery passes undelayed, as ARP does for IPv4 (it is not IP): otherwise the first packets to
  // a new neighbour wait a round trip per hop.
  const mangle6 = six && n.rules.length ? table("mangle", MANGLE, [], [...ND_FIRST, ...n.rules]) : [];
  const fw6 = n.nat?.tables6;
  if (fw6)
    // A firewall6 home router: miniupnpd puts its pinholes in the legacy tables, so all its IPv6 rules
    // live there, as its IPv4 ones do.
    lines.push("ip6tables-legacy-restore <<'EOF'", ...table("raw", ["PREROUTING"], [], fw6.raw), ...mangle6,
      ...table("filter", ["FORWARD"], fw6.chains, fw6.filter), "EOF");
  else if (mangle6.length) lines.push("ip6tables-restore <<'EOF'", ...mangle6, "EOF");
  for (const i of n.ifaces) if (i.rateMbit) lines.push(tbf(i.name, i.rateMbit));
  return lines.join("\n") + "\n";
}

/**
 * Waits until every link is really up. The kernel activates a new link's queueing some time after it
 * gets carrier (linkwatch, up to a second later), and drops what is sent before: right after `up`,
 * IPv6 neighbour discovery then stalled a second. The operational state turns UP at the same moment.
 */
export async function waitLinksUp(plan: Plan, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const n of plan.nodes)
    for (;;) {
      const out = await must(["ip", "-n", n.netns, "-o", "link", "show"], `listing the links of ${n.name}`);
      const down = out.split("\n").filter((l) => /^\d+: /.test(l) && !l.includes(" lo:") && !/ state UP /.test(l));
      if (!down.length) break;
      if (Date.now() > deadline)
        throw new IconError("TIMEOUT", `links of ${n.name} did not come up: ${down.map((l) => l.split(":")[1]!.trim()).join(", ")}`, "Run `icon testbed down` and try again.");
      await Bun.sleep(20);
    }
}

export async function configureNode(n: NodePlan): Promise<void> {
  await must(["ip", "netns", "exec", n.netns, "sh", "-c", configScript(n)], `configuring ${n.name} (${n.netns})`);
}
