/**
 * Turns a topology into everything `up` creates: namespaces, veth pairs with addresses, routes, the
 * mangle rules that hand packets to the delay process, tbf qdiscs, and the NAT of home networks. Pure,
 * so tests check the plan without root.
 *
 * Addressing is in addressing.ts. Per-router numbering (the default, thesis 3.1.1 fig 3.2): every
 * router numbers all its interfaces from its own /29 (point-to-point /32s), so a traceroute from any
 * direction sees the same /29 routerId. Per-link numbering: each router-to-router link is its own /30,
 * as the Internet numbers links, so one /29 can hold both ends of a link. Routes are shortest paths
 * to the nearest node holding an address in each announced prefix, never written by hand.
 */
import {
  cgnatLink, clientBlocks, homeLan, homePublic, HOST_IID, hostAddress, hostGateway, hostPrefix, linkPrefix, routerAddress, routerBlockPrefix,
  v6, V6_AREA, v6Prefix,
} from "./addressing.ts";
import type { DockerdPlan } from "../engine/daemon/plan.ts";
import { dockerdPlan } from "./dockerd/paths.ts";
import { firewall6Tables, type Firewall6Tables } from "./firewall6.ts";
import { expandHomes, miniupnpdConfig, natTables, NATPMP_PORT, UPNP_HTTP_PORT, type Home, type NatTables } from "./homes.ts";
import { containerName, netnsName, upnpDir } from "./names.ts";
import { addRoutes, type Announcement } from "./routes.ts";
import { wantsContainer, type LinkSpec, type NetworkSpec, type Numbering } from "./topology.ts";

export interface IfacePlan {
  name: string;
  address: string;
  peerAddress: string;
  peerNode: string;
  peerIface: string;
  /** tbf rate on this end (the direction leaving through it), Mbit/s. */
  rateMbit?: number;
  /** Prefix length of a subnet shared with the peer; absent: a point-to-point /32 to peerAddress. */
  prefixLen?: number;
  /** IPv6 (`"ipv6": true`), likewise: with prefixLen6 a /64 subnet, else point-to-point /128. */
  address6?: string;
  peerAddress6?: string;
  prefixLen6?: number;
}

export interface ClientBlock {
  prefix: string;
  count: number;
}

export interface RoutePlan {
  /** "default" or a prefix "10.0.0.16/29" (or an IPv6 prefix in routes6). */
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

/** One iptables rule, iptables-restore syntax without the "-A". */
export type Rule = string;

/** What makes a router a home router (gateway) or a carrier's NAT (carrier), and for whom. */
export interface NatRole {
  role: "gateway" | "carrier";
  host: string;
  /** Interface facing the Internet. */
  wan: string;
  /** Legacy iptables (miniupnpd needs those tables): NAT, filter, and extra chains. */
  tables: NatTables;
  /** A firewall6 home's router: its IPv6 filter, legacy ip6tables too (firewall6.ts). */
  tables6?: Firewall6Tables;
  /** upnp gateways: miniupnpd's directory (config, log, pid file) and config; `ipv6`: it opens pinholes too (no -4). */
  upnp?: { dir: string; config: string; ipv6?: true };
}

export interface NodePlan {
  name: string;
  kind: "host" | "router";
  netns: string;
  /** Docker container owning the namespace (--docker and an IEP host). */
  container?: string;
  /** Its own Docker engine (`--engines` and a container-owned host): every path it uses. */
  engine?: DockerdPlan;
  /** Host: its address (a NAT host's LAN address); router: its /29 block (per-router numbering), else "". */
  address: string;
  /** Host with IPv6: its global address. */
  address6?: string;
  /** Host with clientPrefixes: the block its extra /24s come from, and how many it holds (an address in each). */
  clientBlock?: ClientBlock;
  ifaces: IfacePlan[];
  routes: RoutePlan[];
  routes6?: RoutePlan[];
  /** Mangle rules (delay and loss), applied to IPv6 as well when the testbed has it. */
  rules: Rule[];
  queues: QueuePlan[];
  nat?: NatRole;
}

/** A host behind NAT and the addresses of its home. */
export interface HomePlan extends Home {
  lanAddress: string;
  lanPrefix: string;
  /** The home router's LAN address: the host's gateway, and where UPnP / NAT-PMP answer. */
  gatewayAddress: string;
  /** `ipv6`: its global IPv6 address on the LAN. */
  gatewayAddress6?: string;
  /** The home router's WAN address: public-looking, or in 100.64/10 behind CGNAT. */
  wanAddress: string;
  /** The address the rest of the testbed sees the host's traffic come from. */
  publicAddress: string;
  /**
   * upnp: the IGD's description URL (upnpc -u URL skips the 2 s SSDP discovery) and NAT-PMP's address;
   * with firewall6 also over IPv6, where pinholes are asked for (IGDv2 AddPinhole, PCP MAP).
   */
  upnp?: { igd: string; natpmp: string; igd6?: string; pcp6?: string };
}

export interface Plan {
  testbed: string;
  /** The topology as given. */
  topology: NetworkSpec;
  /** The topology with home routers and carriers added (what links and routes are made of). */
  network?: NetworkSpec;
  numbering?: Numbering;
  ipv6?: boolean;
  homes?: HomePlan[];
  nodes: NodePlan[];
}

/** One end's addresses on a link. */
interface End {
  address: string;
  prefixLen?: number;
  address6?: string;
  prefixLen6?: number;
}

/** `engines` (a Docker engine per container-owned host) implies `docker`. */
export function makePlan(testbed: string, t: NetworkSpec, docker: boolean, engines = false): Plan {
  docker ||= engines;
  const numbering: Numbering = t.numbering ?? "per-router";
  const perLink = numbering === "per-link";
  const ipv6 = t.ipv6 === true;
  const { network, homes } = expandHomes(t);
  const homeOf = new Map(homes.flatMap((h) => [[h.host, h], [h.gateway, h], ...(h.carrier ? [[h.carrier, h] as const] : [])]));
  const hostIndex = new Map(t.hosts.map((h, i) => [h.name, i]));
  const routerIndex = new Map(t.routers.map((r, i) => [r.name, i]));
  const used = new Map<string, number>();
  const nodes = new Map<string, NodePlan>();
  const blocks = clientBlocks(t.hosts);
  for (const h of t.hosts) {
    const j = hostIndex.get(h.name)!;
    const block = blocks.get(h.name);
    nodes.set(h.name, {
      name: h.name, kind: "host", netns: netnsName(testbed, h.name), address: h.nat ? homeLan(j).host : hostAddress(j),
      ...(ipv6 ? { address6: v6(V6_AREA.host, j + 1, HOST_IID) } : {}),
      ...(block ? { clientBlock: { prefix: block, count: h.clientPrefixes! } } : {}),
      ifaces: [], routes: [], rules: [], queues: [],
      ...(docker && wantsContainer(h) ? { container: containerName(testbed, h.name) } : {}),
      ...(engines && wantsContainer(h) ? { engine: dockerdPlan(testbed, h.name) } : {}),
    });
  }
  for (const r of network.routers)
    nodes.set(r.name, {
      name: r.name, kind: "router", netns: netnsName(testbed, r.name),
      address: routerIndex.has(r.name) && !perLink ? routerBlockPrefix(routerIndex.get(r.name)!) : "",
      ifaces: [], routes: [], rules: [], queues: [],
    });

  // Addresses, link by link. A topology router numbers from its /29 in order of its links.
  const announce: Announcement[] = [], announce6: Announcement[] = [];
  const fromBlock = (router: string): End => {
    const i = routerIndex.get(router)!, n = used.get(router) ?? 0;
    used.set(router, n + 1);
    return { address: routerAddress(i, n), ...(ipv6 ? { address6: v6(V6_AREA.router, i + 1, n + 1) } : {}) };
  };
  const subnet = (address: string, prefixLen: number, address6?: string): End =>
    ({ address, prefixLen, ...(ipv6 && address6 ? { address6, prefixLen6: 64 } : {}) });
  let coreLinks = 0;
  const endsOf = (l: LinkSpec): [End, End] => {
    const home = homeOf.get(l.a) ?? homeOf.get(l.b);
    if (home) {
      // expandHomes makes every home link from the inside out: l.a is the end nearer the host.
      const j = hostIndex.get(home.host)!;
      if (l.a === home.host) {
        // The home LAN: the host and its home router share a /24 (and a /64).
        const lan = homeLan(j), six = (iid: number) => v6(V6_AREA.host, j + 1, iid);
        return [subnet(lan.host, 24, six(HOST_IID)), subnet(lan.gateway, 24, six(1))];
      }
      if (l.b === home.carrier) {
        const c = cgnatLink(j), six = (iid: number) => v6(V6_AREA.cgnat, j + 1, iid);
        return [subnet(c.home, 30, six(2)), subnet(c.carrier, 30, six(1))];
      }
      // The access link between the home's outermost NAT and the ISP's router: numbered from the
      // home's public /24 (per-link), or the router's own /29 with the NAT's public /32 (per-router).
      const pub = homePublic(j), six = (iid: number) => v6(V6_AREA.access, j + 1, iid);
      if (perLink) return [subnet(pub.outer, 30, six(2)), subnet(pub.isp, 30, six(1))];
      return [{ address: pub.outer, ...(ipv6 ? { address6: six(2) } : {}) }, fromBlock(l.b)];
    }
    const host = hostIndex.has(l.a) ? l.a : hostIndex.has(l.b) ? l.b : undefined;
    if (host) {
      const j = hostIndex.get(host)!;
      const hostEnd: End = perLink ? subnet(hostAddress(j), 24, v6(V6_AREA.host, j + 1, HOST_IID))
        : { address: hostAddress(j), ...(ipv6 ? { address6: v6(V6_AREA.host, j + 1, HOST_IID) } : {}) };
      const routerEnd = perLink ? subnet(hostGateway(j), 24, v6(V6_AREA.host, j + 1, 1)) : fromBlock(host === l.a ? l.b : l.a);
      return host === l.a ? [hostEnd, routerEnd] : [routerEnd, hostEnd];
    }
    if (!perLink) return [fromBlock(l.a), fromBlock(l.b)];
    const k = coreLinks++, p = linkPrefix(k);
    announce.push({ prefix: p.prefix, owners: [l.a, l.b] });
    announce6.push({ prefix: v6Prefix(V6_AREA.link, k + 1), owners: [l.a, l.b] });
    return [subnet(p.a, 30, v6(V6_AREA.link, k + 1, 1)), subnet(p.b, 30, v6(V6_AREA.link, k + 1, 2))];
  };
  const ifaceName = (node: string, peer: string) => (hostIndex.has(node) ? "eth0" : peer);

  for (const l of network.links) {
    const [ea, eb] = endsOf(l);
    const rate = l.rateMbit ?? undefined;
    const a = nodes.get(l.a)!, b = nodes.get(l.b)!;
    const iface = (me: End, peer: End, self: NodePlan, other: NodePlan): IfacePlan => ({
      name: ifaceName(self.name, other.name), address: me.address, peerAddress: peer.address, peerNode: other.name, peerIface: ifaceName(other.name, self.name),
      ...(rate ? { rateMbit: rate } : {}), ...(me.prefixLen ? { prefixLen: me.prefixLen } : {}),
      ...(me.address6 ? { address6: me.address6, peerAddress6: peer.address6! } : {}), ...(me.prefixLen6 ? { prefixLen6: me.prefixLen6 } : {}),
    });
    a.ifaces.push(iface(ea, eb, a, b));
    b.ifaces.push(iface(eb, ea, b, a));
    // Each direction is delayed once, on a router: leaving it (POSTROUTING -o, which also catches the
    // router's own ICMP errors), or, for the host-to-router direction, entering it (PREROUTING -i).
    // Never FORWARD (DESIGN.md "Testbed facts"), and never on a host: ping and traceroute take their
    // receive time before PREROUTING, so a host would not see a delay applied there.
    for (const [from, to] of [[a, b], [b, a]] as const) {
      if (from.kind === "router") addDelay(from, "POSTROUTING", "-o", ifaceName(from.name, to.name), `${from.name}>${to.name}`, l.delayMs, l.loss);
      else addDelay(to, "PREROUTING", "-i", ifaceName(to.name, from.name), `${from.name}>${to.name}`, l.delayMs, l.loss);
    }
  }

  // What routers route to: hosts' /24s (a NAT host's private LAN never: its home's public /24), then
  // router blocks; with per-link numbering the link /30s were announced above.
  const head: Announcement[] = [], head6: Announcement[] = [];
  for (const h of t.hosts) {
    const j = hostIndex.get(h.name)!;
    const home = homeOf.get(h.name);
    // With per-link numbering the access router holds an address in the host's (or home's) prefix.
    const access = home ? accessRouter(nodes, home) : nodes.get(h.name)!.ifaces[0]!.peerNode;
    head.push({ prefix: home ? homePublic(j).prefix : hostPrefix(j), owners: [home ? home.outer : h.name, ...(perLink ? [access] : [])] });
    const block = blocks.get(h.name);
    if (block) head.push({ prefix: block, owners: [h.name] });
    if (!ipv6) continue;
    head6.push({ prefix: v6Prefix(V6_AREA.host, j + 1), owners: [h.name, ...(perLink || home ? [nodes.get(h.name)!.ifaces[0]!.peerNode] : [])] });
    if (home) {
      head6.push({ prefix: v6Prefix(V6_AREA.access, j + 1), owners: [home.outer, ...(perLink ? [access] : [])] });
      if (home.carrier) head6.push({ prefix: v6Prefix(V6_AREA.cgnat, j + 1), owners: [home.carrier, home.gateway] });
    }
  }
  if (!perLink)
    for (const r of t.routers) {
      const i = routerIndex.get(r.name)!;
      head.push({ prefix: routerBlockPrefix(i), owners: [r.name] });
      if (ipv6) head6.push({ prefix: v6Prefix(V6_AREA.router, i + 1), owners: [r.name] });
    }

  addRoutes(network, [...nodes.values()], [...head, ...announce], ipv6 ? [...head6, ...announce6] : undefined);
  for (const n of nodes.values()) {
    const home = homeOf.get(n.name);
    if (home && n.kind === "router") {
      // A home router or carrier is a stub: a default route upstream, as real ones have.
      const role = n.name === home.gateway ? "gateway" : "carrier";
      const inside = role === "gateway" ? home.host : home.gateway;
      const wan = n.ifaces.find((i) => i.peerNode !== inside)!;
      n.routes.push({ to: "default", via: wan.peerAddress, dev: wan.name });
      if (ipv6) n.routes6!.push({ to: "default", via: wan.peerAddress6!, dev: wan.name });
      const lan = homeLan(hostIndex.get(home.host)!);
      n.nat = { role, host: home.host, wan: wan.name, tables: natTables(role, home, wan.name, lan.host) };
      // The firewall sits on the home router; topology.ts allows it only with IPv6.
      const fw6 = role === "gateway" && home.firewall6 === true;
      if (fw6) n.nat.tables6 = firewall6Tables(home, wan.name, nodes.get(home.host)!.address6!);
      if (role === "gateway" && home.kind === "upnp")
        n.nat.upnp = {
          dir: upnpDir(testbed, n.name), config: miniupnpdConfig({ testbed, home, wan: wan.name, lanIface: home.host, lanPrefix: lan.prefix, ipv6: fw6 }),
          ...(fw6 ? { ipv6: true as const } : {}),
        };
    }
  }

  const plan: Plan = { testbed, topology: t, nodes: [...nodes.values()] };
  if (network !== t) plan.network = network;
  if (perLink) plan.numbering = numbering;
  if (ipv6) plan.ipv6 = true;
  if (homes.length)
    plan.homes = homes.map((home) => {
      const j = hostIndex.get(home.host)!, lan = homeLan(j);
      const gw = nodes.get(home.gateway)!;
      const wan = gw.ifaces.find((i) => i.name === gw.nat!.wan)!.address;
      const outer = nodes.get(home.outer)!;
      const gw6 = gw.ifaces.find((i) => i.peerNode === home.host)!.address6;
      const upnp6 = gw6 && home.firewall6 ? { igd6: `http://[${gw6}]:${UPNP_HTTP_PORT}/rootDesc.xml`, pcp6: `[${gw6}]:${NATPMP_PORT}` } : {};
      return {
        ...home, lanAddress: lan.host, lanPrefix: lan.prefix, gatewayAddress: lan.gateway, ...(gw6 ? { gatewayAddress6: gw6 } : {}), wanAddress: wan,
        publicAddress: outer.ifaces.find((i) => i.name === outer.nat!.wan)!.address,
        ...(home.kind === "upnp" ? { upnp: { igd: `http://${lan.gateway}:${UPNP_HTTP_PORT}/rootDesc.xml`, natpmp: `${lan.gateway}:${NATPMP_PORT}`, ...upnp6 } } : {}),
      };
    });
  return plan;
}

/** The ISP router a home's outermost NAT hangs off. */
function accessRouter(nodes: Map<string, NodePlan>, home: Home): string {
  const inside = home.carrier ? home.gateway : home.host;
  return nodes.get(home.outer)!.ifaces.find((i) => i.peerNode !== inside)!.peerNode;
}

function addDelay(router: NodePlan, chain: string, dir: "-o" | "-i", iface: string, label: string, delayMs: number, loss?: number) {
  if (loss && loss > 0) router.rules.push(`${chain} ${dir} ${iface} -m statistic --mode random --probability ${loss} -j DROP`);
  if (delayMs > 0) {
    const num = router.queues.length;
    router.queues.push({ num, delayMs, label });
    router.rules.push(`${chain} ${dir} ${iface} -j NFQUEUE --queue-num ${num}`);
  }
}

/** The network as made (the topology itself when it has no homes). */
export const networkOf = (p: Plan): NetworkSpec => p.network ?? p.topology;
