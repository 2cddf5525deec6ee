/**
 * Turns a topology into everything `up` creates: namespaces, veth pairs with addresses, routes, the
 * mangle rules that hand packets to the delay process, and tbf qdiscs. Pure, so tests check the plan
 * without root.
 *
 * Addressing (thesis 3.1.1, fig 3.2): router i owns the /29 block 10.0.0.0 + 8(i+1) and numbers every
 * one of its interfaces from it (point-to-point /32s), so a traceroute from any direction sees the same
 * /29 routerId. Host j owns 10.1.(j+1).0/24 and sits at 10.1.(j+1).10: a client /24 is the unit of the
 * trace cache.
 */
import { IconError } from "../errors.ts";
import type { DockerdPlan } from "../engine/daemon/plan.ts";
import { dockerdPlan } from "./dockerd/paths.ts";
import { containerName, netnsName } from "./names.ts";
import { adjacency, shortestPaths } from "./paths.ts";
import { wantsContainer, type NetworkSpec } from "./topology.ts";

export interface IfacePlan {
  name: string;
  address: string;
  peerAddress: string;
  peerNode: string;
  peerIface: string;
  /** tbf rate on this end (the direction leaving through it), Mbit/s. */
  rateMbit?: number;
}

export interface RoutePlan {
  /** "default" or a prefix "10.0.0.16/29". */
  to: string;
  via: string;
  dev: string;
}

/** One NFQUEUE: the delay process holds every packet of this queue for delayMs. */
export interface QueuePlan {
  num: number;
  delayMs: number;
  /** e.g. "r5>r6": the link direction it delays. */
  label: string;
}

/** One mangle rule, iptables-restore syntax without the "-A". */
export type Rule = string;

export interface NodePlan {
  name: string;
  kind: "host" | "router";
  netns: string;
  /** Docker container owning the namespace (--docker and an IEP host). */
  container?: string;
  /** Its own Docker engine (`--engines` and a container-owned host): every path it uses. */
  engine?: DockerdPlan;
  /** Host: its address; router: its /29 block. */
  address: string;
  ifaces: IfacePlan[];
  routes: RoutePlan[];
  rules: Rule[];
  queues: QueuePlan[];
}

export interface Plan {
  testbed: string;
  topology: NetworkSpec;
  nodes: NodePlan[];
}

const ip = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const ROUTER_BASE = (10 << 24) >>> 0; // 10.0.0.0
/** Order in which a router hands out the addresses of its /29: the "nice" ones first. */
const OFFSETS = [1, 2, 3, 4, 5, 6, 0, 7];

export function routerBlock(index: number): number {
  return ROUTER_BASE + 8 * (index + 1);
}
export function hostAddress(index: number): string {
  if (index > 253) throw new IconError("INVALID_INPUT", "topology: more than 254 hosts", "Use at most 254 hosts.");
  return `10.1.${index + 1}.10`;
}
export const hostPrefix = (address: string) => address.replace(/\.\d+$/, ".0/24");

/** `engines` (a Docker engine per container-owned host) implies `docker`. */
export function makePlan(testbed: string, t: NetworkSpec, docker: boolean, engines = false): Plan {
  docker ||= engines;
  const hostIndex = new Map(t.hosts.map((h, i) => [h.name, i]));
  const routerIndex = new Map(t.routers.map((r, i) => [r.name, i]));
  const used = new Map<string, number>();
  const nodes = new Map<string, NodePlan>();
  for (const h of t.hosts)
    nodes.set(h.name, {
      name: h.name, kind: "host", netns: netnsName(testbed, h.name), address: hostAddress(hostIndex.get(h.name)!),
      ifaces: [], routes: [], rules: [], queues: [],
      ...(docker && wantsContainer(h) ? { container: containerName(testbed, h.name) } : {}),
      ...(engines && wantsContainer(h) ? { engine: dockerdPlan(testbed, h.name) } : {}),
    });
  for (const r of t.routers)
    nodes.set(r.name, {
      name: r.name, kind: "router", netns: netnsName(testbed, r.name), address: `${ip(routerBlock(routerIndex.get(r.name)!))}/29`,
      ifaces: [], routes: [], rules: [], queues: [],
    });
  const addressOn = (node: string): string => {
    const h = hostIndex.get(node);
    if (h !== undefined) return hostAddress(h);
    const n = used.get(node) ?? 0;
    used.set(node, n + 1);
    return ip(routerBlock(routerIndex.get(node)!) + OFFSETS[n]!);
  };
  const ifaceName = (node: string, peer: string) => (hostIndex.has(node) ? "eth0" : peer);

  for (const l of t.links) {
    const [aAddr, bAddr] = [addressOn(l.a), addressOn(l.b)];
    const rate = l.rateMbit ?? undefined;
    const a = nodes.get(l.a)!, b = nodes.get(l.b)!;
    a.ifaces.push({ name: ifaceName(l.a, l.b), address: aAddr, peerAddress: bAddr, peerNode: l.b, peerIface: ifaceName(l.b, l.a), ...(rate ? { rateMbit: rate } : {}) });
    b.ifaces.push({ name: ifaceName(l.b, l.a), address: bAddr, peerAddress: aAddr, peerNode: l.a, peerIface: ifaceName(l.a, l.b), ...(rate ? { rateMbit: rate } : {}) });
    // Each direction is delayed once, on a router: leaving it (POSTROUTING -o, which also catches the
    // router's own ICMP errors), or, for the host-to-router direction, entering it (PREROUTING -i).
    // Never FORWARD (DESIGN.md "Testbed facts").
    for (const [from, to] of [[a, b], [b, a]] as const) {
      if (from.kind === "router") addDelay(from, "POSTROUTING", "-o", ifaceName(from.name, to.name), `${from.name}>${to.name}`, l.delayMs, l.loss);
      else addDelay(to, "PREROUTING", "-i", ifaceName(to.name, from.name), `${from.name}>${to.name}`, l.delayMs, l.loss);
    }
  }

  const adj = adjacency(t);
  for (const n of nodes.values()) {
    if (n.kind === "host") {
      const i = n.ifaces[0]!;
      n.routes.push({ to: "default", via: i.peerAddress, dev: i.name });
      continue;
    }
    const tree = shortestPaths(t, n.name, adj);
    const viaTo = (dest: string): { via: string; dev: string } | undefined => {
      const hop = tree.firstHop.get(dest);
      const i = n.ifaces.find((f) => f.peerNode === hop);
      return i && { via: i.peerAddress, dev: i.name };
    };
    for (const other of nodes.values()) {
      if (other === n) continue;
      const hop = viaTo(other.name);
      if (!hop) throw new IconError("INTERNAL", `no path from ${n.name} to ${other.name}`);
      n.routes.push({ to: other.kind === "host" ? hostPrefix(other.address) : other.address, ...hop });
    }
  }
  return { testbed, topology: t, nodes: [...nodes.values()] };
}

function addDelay(router: NodePlan, chain: string, dir: "-o" | "-i", iface: string, label: string, delayMs: number, loss?: number) {
  if (loss && loss > 0) router.rules.push(`${chain} ${dir} ${iface} -m statistic --mode random --probability ${loss} -j DROP`);
  if (delayMs > 0) {
    const num = router.queues.length;
    router.queues.push({ num, delayMs, label });
    router.rules.push(`${chain} ${dir} ${iface} -j NFQUEUE --queue-num ${num}`);
  }
}
