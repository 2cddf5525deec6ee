/**
 * The node's own firewall for its ICONs' bridge: iptables chains named after the node (so several nodes
 * coexist beside the operator's dockerd, whose DOCKER chains it never touches), jumped to from the
 * built-in chains, and removed whole when the node stops. The engine itself runs with --iptables=false:
 * two dockerds programming one namespace fight over the same DOCKER chains.
 *
 * What an ICON may do: answer connections to its published port (DNAT of the node's pinned host port to
 * the container, keeping the client's source address, which the ICON uses to find closer nodes), and,
 * with egress internet, open connections to public addresses (masqueraded). Never: this host (INPUT from
 * the bridge is dropped, whatever address it aims at), another ICON (bridged or hairpinned), or any
 * private, loopback, link-local, CGNAT, multicast or reserved range. Every drop rule carries a comment
 * naming what it refuses, so `icon node status` counts refusals per reason from the rules' counters.
 *
 * IPv6 (when the bridge has a ULA /64, own-engine.ts): the same chains in ip6tables, so a client's IPv6
 * connection to a published port is DNAT'd to the ICON's bridge address with its source kept, as over
 * IPv4. ICONs open no IPv6 connections of their own: their ULA source could not be answered without NAT66,
 * and keeping them off IPv6 egress spares a second list of ranges; every new packet from the bridge over
 * IPv6 is dropped (icon:egress-ipv6).
 */
import { readdirSync } from "node:fs";
import { IconError } from "../../errors.ts";
import { complaint, run } from "../../util/command.ts";
import { formatCidr, type Cidr } from "../../util/ipv4.ts";
import type { Egress } from "../icon-network.ts";

/** Destinations an ICON never reaches, whatever the egress policy (RFC 6890's non-global ranges that matter at home). */
export const PRIVATE_RANGES: readonly string[] = [
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3",
];

/** What an ICON may open connections to (config iconEgress). */
export type EgressPolicy = Exclude<Egress, "unfiltered">;

/** Why a packet was dropped: the comment on its rule, and the key under which status counts it. */
export const DROPS = {
  iconToIcon: "icon:icon-to-icon",
  inbound: "icon:inbound-unpublished",
  privateRange: "icon:private-range",
  egressNone: "icon:egress-none",
  toHost: "icon:to-host",
  egressIpv6: "icon:egress-ipv6",
} as const;

/** The iptables family a rule set is for. */
export type Family = 4 | 6;
const IPTABLES = { 4: "iptables", 6: "ip6tables" } as const;

export interface FirewallPlan {
  /** Chain prefix (ICON-<key8>). */
  chains: string;
  bridge: string;
  subnet: Cidr;
  egress: EgressPolicy;
  /** The address published ports answer on (config listen); 0.0.0.0: every address of the host. */
  listen: string;
  /** The bridge's IPv6 /64 (ULA), when ICONs are published over IPv6 too. */
  subnet6?: string;
  /** The IPv6 address published ports answer on then (config listen6); "::": every address of the host. */
  listen6?: string;
}

export interface Published {
  port: number;
  /** The container's address on the bridge. */
  address: string;
  /** Its IPv6 address there, when the bridge has IPv6. */
  address6?: string;
}

type Names = Pick<FirewallPlan, "chains" | "bridge">;
const chain = (p: Names, part: "FWD" | "IN" | "DNAT" | "POST") => `${p.chains}-${part}`;
const drop = (why: string) => `-m comment --comment ${why} -j DROP`;

/** The DNAT chain's rules, one per published port (IPv6: one per port whose container has an IPv6 address). */
function dnatRules(p: FirewallPlan, published: Published[], family: Family = 4): string[] {
  const listen = family === 6 ? p.listen6 : p.listen;
  const dst = !listen || listen === "0.0.0.0" || listen === "::" ? "" : `-d ${listen} `;
  if (family === 6)
    return published.filter((x) => x.address6).map((x) => `-A ${chain(p, "DNAT")} ${dst}-p tcp --dport ${x.port} -j DNAT --to-destination [${x.address6}]:${x.port}`);
  return published.map((x) => `-A ${chain(p, "DNAT")} ${dst}-p tcp --dport ${x.port} -j DNAT --to-destination ${x.address}:${x.port}`);
}

/** iptables-restore (ip6tables-restore) input (with --noflush: only the chains declared here are flushed and refilled). */
export function firewallRules(p: FirewallPlan, published: Published[] = [], family: Family = 4): string {
  const br = p.bridge, fwd = chain(p, "FWD");
  const egress = family === 6 ? [`-A ${fwd} -i ${br} ${drop(DROPS.egressIpv6)}`]
    : p.egress === "none"
    ? [`-A ${fwd} -i ${br} ${drop(DROPS.egressNone)}`]
    : [...PRIVATE_RANGES.map((r) => `-A ${fwd} -i ${br} -d ${r} ${drop(DROPS.privateRange)}`), `-A ${fwd} -i ${br} -j ACCEPT`];
  const nat = family === 6 ? [`:${chain(p, "DNAT")} - [0:0]`, ...dnatRules(p, published, 6)] : [
    `:${chain(p, "DNAT")} - [0:0]`,
    `:${chain(p, "POST")} - [0:0]`,
    ...dnatRules(p, published),
    ...(p.egress === "internet" ? [`-A ${chain(p, "POST")} -s ${formatCidr(p.subnet)} ! -o ${br} -j MASQUERADE`] : []),
    // A client on this host that connects to 127.0.0.1:PORT: its loopback source cannot leave on the bridge.
    `-A ${chain(p, "POST")} -s 127.0.0.0/8 -o ${br} -j MASQUERADE`,
  ];
  return [
    "*filter",
    `:${fwd} - [0:0]`,
    `:${chain(p, "IN")} - [0:0]`,
    // Bridged frames pass FORWARD too (br_netfilter): in and out on the bridge is one ICON to another.
    `-A ${fwd} -i ${br} -o ${br} ${drop(DROPS.iconToIcon)}`,
    `-A ${fwd} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${fwd} -o ${br} -m conntrack --ctstate DNAT -j ACCEPT`,
    `-A ${fwd} -o ${br} ${drop(DROPS.inbound)}`,
    `-A ${fwd} -i ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    ...egress,
    `-A ${chain(p, "IN")} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    // IPv6 finds the gateway's link address by ICMPv6 (no ARP): without it no reply leaves an ICON.
    ...(family === 6 ? ["neighbour-solicitation", "neighbour-advertisement"].map((t) => `-A ${chain(p, "IN")} -p ipv6-icmp --icmpv6-type ${t} -j ACCEPT`) : []),
    `-A ${chain(p, "IN")} ${drop(DROPS.toHost)}`,
    "COMMIT",
    "*nat",
    ...nat,
    "COMMIT",
    "",
  ].join("\n");
}

/** The jumps from the built-in chains into the node's chains: [table, built-in chain, match and target]. */
export function jumps(p: Names, family: Family = 4): [string, string, string[]][] {
  const all: [string, string, string[]][] = [
    ["filter", "FORWARD", ["-j", chain(p, "FWD")]],
    ["filter", "INPUT", ["-i", p.bridge, "-j", chain(p, "IN")]],
    ["nat", "PREROUTING", ["!", "-i", p.bridge, "-m", "addrtype", "--dst-type", "LOCAL", "-j", chain(p, "DNAT")]],
    ["nat", "OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", chain(p, "DNAT")]],
    ["nat", "POSTROUTING", ["-j", chain(p, "POST")]],
  ];
  return family === 4 ? all : all.filter(([, builtin]) => builtin !== "POSTROUTING"); // no IPv6 masquerading
}

const FIX = "Check that iptables works here (iptables -S), that the kernel has br_netfilter, and that the node runs as root.";

async function iptables(args: string[], what: string, family: Family = 4): Promise<void> {
  const r = await run([IPTABLES[family], "-w", ...args]);
  if (r.code !== 0) throw new IconError("FAILED", `${what}: ${complaint(r)}`, FIX);
}

async function restore(text: string, what: string, family: Family = 4): Promise<void> {
  const r = await run([`${IPTABLES[family]}-restore`, "-w", "--noflush"], text);
  if (r.code !== 0) throw new IconError("FAILED", `${what}: ${complaint(r)}`, FIX);
}

async function sysctl(path: string, value: string): Promise<void> {
  try {
    await Bun.write(`/proc/sys/${path}`, value);
  } catch (e) {
    throw new IconError("UNSUPPORTED", `cannot set ${path.replaceAll("/", ".")}=${value}: ${(e as Error).message}`,
      path.includes("bridge-nf") ? "Load br_netfilter (modprobe br_netfilter): without it the node cannot keep ICONs on one bridge apart." : FIX);
  }
}

export class Firewall {
  private readonly published = new Map<number, Published>();

  constructor(readonly plan: FirewallPlan) {}

  /** 4, and 6 when ICONs are published over IPv6 too. */
  private get families(): Family[] {
    return this.plan.subnet6 ? [4, 6] : [4];
  }

  /** Installs (or re-installs after a crash) the chains and the jumps to them; the bridge must exist. */
  async setup(): Promise<void> {
    await sysctl("net/bridge/bridge-nf-call-iptables", "1");
    await sysctl(`net/ipv4/conf/${this.plan.bridge}/route_localnet`, "1");
    if (this.plan.subnet6) {
      await sysctl("net/bridge/bridge-nf-call-ip6tables", "1");
      await enableIPv6Forwarding();
    } else await sysctl(`net/ipv6/conf/${this.plan.bridge}/disable_ipv6`, "1");
    for (const family of this.families) {
      await restore(firewallRules(this.plan, this.list(), family), "installing the node's firewall chains", family);
      for (const [table, builtin, rule] of jumps(this.plan, family)) {
        const present = await run([IPTABLES[family], "-w", "-t", table, "-C", builtin, ...rule]);
        if (present.code !== 0) await iptables(["-t", table, "-I", builtin, "1", ...rule], `jumping from ${builtin} to the node's chains`, family);
      }
    }
  }

  private list(): Published[] {
    return [...this.published.values()];
  }

  private async rewriteDnat(): Promise<void> {
    for (const family of this.families) {
      const text = ["*nat", `:${chain(this.plan, "DNAT")} - [0:0]`, ...dnatRules(this.plan, this.list(), family), "COMMIT", ""].join("\n");
      await restore(text, "updating the node's published ports", family);
    }
  }

  async publish(port: number, address: string, address6?: string): Promise<void> {
    this.published.set(port, { port, address, ...(address6 && this.plan.subnet6 ? { address6 } : {}) });
    await this.rewriteDnat();
  }

  async unpublish(port: number): Promise<void> {
    if (this.published.delete(port)) await this.rewriteDnat();
  }

  /** Packets dropped so far, by reason (the rules' counters, IPv4 and IPv6; zero for a chain that is gone). */
  async dropped(): Promise<Record<keyof typeof DROPS, number>> {
    const out = Object.fromEntries(Object.keys(DROPS).map((k) => [k, 0])) as Record<keyof typeof DROPS, number>;
    for (const family of this.families)
      for (const part of ["FWD", "IN"] as const) {
        const r = await run([IPTABLES[family], "-w", "-L", chain(this.plan, part), "-v", "-x", "-n"]);
        for (const line of r.stdout.split("\n")) {
          const key = (Object.keys(DROPS) as (keyof typeof DROPS)[]).find((k) => line.includes(`/* ${DROPS[k]} */`));
          if (key) out[key] += Number(line.trim().split(/\s+/)[0]) || 0;
        }
      }
    return out;
  }

  async teardown(): Promise<void> {
    this.published.clear();
    await removeFirewall(this.plan);
  }
}

/**
 * IPv6 forwarding, so that connections DNAT'd to the bridge are routed there (dockerd --ipv6 turns it on
 * too). Linux then ignores router advertisements on interfaces with accept_ra 1, and a home host would
 * lose its SLAAC address when the prefix's lifetime runs out: those interfaces get accept_ra 2 (accept
 * them while forwarding). Both stay when the node stops.
 */
async function enableIPv6Forwarding(): Promise<void> {
  const conf = "/proc/sys/net/ipv6/conf";
  for (const iface of readdirSync(conf))
    if (iface !== "all" && (await Bun.file(`${conf}/${iface}/accept_ra`).text().catch(() => "")).trim() === "1") await sysctl(`net/ipv6/conf/${iface}/accept_ra`, "2");
  await sysctl("net/ipv6/conf/all/forwarding", "1");
}

/** Removes a node's jumps and chains, IPv4 and IPv6; safe to repeat, and when they were never made. */
export async function removeFirewall(p: Names): Promise<void> {
  for (const family of [4, 6] as const) {
    const cmd = IPTABLES[family];
    for (const [table, builtin, rule] of jumps(p, family))
      for (let i = 0; i < 8; i++) if ((await run([cmd, "-w", "-t", table, "-D", builtin, ...rule])).code !== 0) break;
    for (const [table, parts] of [["filter", ["FWD", "IN"]], ["nat", ["DNAT", "POST"]]] as const)
      for (const part of parts) {
        await run([cmd, "-w", "-t", table, "-F", chain(p, part)]);
        await run([cmd, "-w", "-t", table, "-X", chain(p, part)]);
      }
  }
}
