/**
 * Home networks (issue 14): a host with `"nat"` sits behind a home router namespace instead of on its
 * access router's link, as a home computer does. The topology is expanded before planning:
 *
 *   upnp, static:  HOST ── HOST_gw ── R          (HOST_gw masquerades; upnp runs miniupnpd there)
 *   cgnat:         HOST ── HOST_gw ── HOST_cgn ── R   (masquerades twice; no mapping service)
 *
 * The host link's delay is split evenly over the new links (rounded to the µs, the last takes the
 * rest), so every RTT the topology promises stays exactly what it was; the host link's rate and loss
 * apply to each piece.
 */
import { createHash } from "node:crypto";
import { carrierName, DEFAULT_FORWARD, gatewayName, type LinkSpec, type NatKind, type NetworkSpec, type PortRange } from "./topology.ts";

export interface Home {
  host: string;
  kind: NatKind;
  /** The home router node (HOST_gw). */
  gateway: string;
  /** cgnat: the carrier's NAT node (HOST_cgn). */
  carrier?: string;
  /** The node whose address the rest of the Internet sees: the carrier for cgnat, else the gateway. */
  outer: string;
  /** static: the ports forwarded to the host (UDP and TCP). */
  forward?: PortRange[];
  /** The home router drops unsolicited inbound IPv6 (firewall6.ts). */
  firewall6?: true;
}

export function expandHomes(t: NetworkSpec): { network: NetworkSpec; homes: Home[] } {
  const homes: Home[] = [];
  const routers = [...t.routers];
  let links: LinkSpec[] = t.links;
  for (const h of t.hosts) {
    if (!h.nat) continue;
    const gateway = gatewayName(h.name);
    const carrier = h.nat === "cgnat" ? carrierName(h.name) : undefined;
    const chain = [h.name, gateway, ...(carrier ? [carrier] : [])];
    homes.push({
      host: h.name, kind: h.nat, gateway, ...(carrier ? { carrier } : {}), outer: chain.at(-1)!,
      ...(h.nat === "static" ? { forward: h.forward ?? DEFAULT_FORWARD } : {}), ...(h.firewall6 ? { firewall6: true as const } : {}),
    });
    routers.push(...chain.slice(1).map((name) => ({ name })));
    links = links.flatMap((l) => {
      if (l.a !== h.name && l.b !== h.name) return [l];
      const isp = l.a === h.name ? l.b : l.a;
      const hops = [...chain, isp];
      const pieces = splitDelay(l.delayMs, hops.length - 1);
      return pieces.map((delayMs, i) => ({ ...l, a: hops[i]!, b: hops[i + 1]!, delayMs }));
    });
  }
  return { network: homes.length ? { ...t, routers, links } : t, homes };
}

/** `n` delays summing to exactly `ms` (to the µs). */
export function splitDelay(ms: number, n: number): number[] {
  const us = Math.round(ms * 1000), each = Math.floor(us / n);
  return Array.from({ length: n }, (_, i) => (i < n - 1 ? each : us - each * (n - 1)) / 1000);
}

/** The port miniupnpd's UPnP IGD (HTTP) listens on, on the home router's LAN address. */
export const UPNP_HTTP_PORT = 5000;
/** NAT-PMP and PCP (RFC 6886, 6887) listen on UDP 5351 of the gateway: fixed by the protocols. */
export const NATPMP_PORT = 5351;

/**
 * miniupnpd's chains, which it expects to exist (Debian's init script makes them; we do it ourselves):
 * it programs the *legacy* iptables tables (DESIGN.md "Home network facts").
 */
const UPNP_CHAINS = { nat: ["MINIUPNPD", "MINIUPNPD-POSTROUTING"], mangle: ["MINIUPNPD"], filter: ["MINIUPNPD"] };

export interface NatTables {
  /** Extra chains per table. */
  chains: { nat: string[]; mangle: string[]; filter: string[] };
  raw: string[];
  nat: string[];
  /** Jumps added to the mangle table before the delay rules. */
  mangle: string[];
  filter: string[];
}

/**
 * The IPv4 NAT and filter rules of a home router or carrier, iptables-restore lines without "-A".
 * `wan` faces the Internet; `lanHost` is the host's address (static forwarding). Unsolicited inbound
 * traffic is dropped like on a real home router; replies pass through conntrack.
 */
export function natTables(role: "gateway" | "carrier", home: Home, wan: string, lanHost: string): NatTables {
  const stateful = [`FORWARD -i ${wan} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`, `FORWARD -i ${wan} -j DROP`];
  const t: NatTables = {
    chains: { nat: [], mangle: [], filter: [] },
    // A packet about to expire here is not tracked. Otherwise the time-exceeded it causes carries its
    // unconfirmed conntrack entry, and the kernel drops such a packet when it comes back from the
    // delay queue: a traceroute would never see a NAT node.
    raw: ["PREROUTING -m ttl --ttl-lt 2 -j CT --notrack"],
    nat: [], mangle: [], filter: [],
  };
  if (role === "carrier") {
    t.nat.push(`POSTROUTING -o ${wan} -j MASQUERADE`);
    t.filter.push(...stateful);
    return t;
  }
  if (home.kind === "upnp") {
    t.chains = { nat: [...UPNP_CHAINS.nat], mangle: [...UPNP_CHAINS.mangle], filter: [...UPNP_CHAINS.filter] };
    t.nat.push(`PREROUTING -i ${wan} -j MINIUPNPD`, `POSTROUTING -o ${wan} -j MINIUPNPD-POSTROUTING`);
    t.mangle.push(`PREROUTING -i ${wan} -j MINIUPNPD`);
    t.filter.push(`FORWARD -i ${wan} ! -o ${wan} -j MINIUPNPD`);
  }
  if (home.kind === "static")
    for (const r of home.forward ?? [])
      for (const proto of ["udp", "tcp"]) {
        const ports = dports(r);
        t.nat.push(`PREROUTING -i ${wan} -p ${proto} -m ${proto} --dport ${ports} -j DNAT --to-destination ${lanHost}`);
        t.filter.push(`FORWARD -i ${wan} -d ${lanHost}/32 -p ${proto} -m ${proto} --dport ${ports} -m conntrack --ctstate DNAT -j ACCEPT`);
      }
  t.nat.push(`POSTROUTING -o ${wan} -j MASQUERADE`);
  t.filter.push(...stateful);
  return t;
}

/** A port range as iptables' --dport takes it. */
export const dports = (r: PortRange) => (r.first === r.last ? `${r.first}` : `${r.first}:${r.last}`);

/**
 * miniupnpd.conf for a home router: UPnP IGD and NAT-PMP/PCP on the LAN, mappings only for the LAN's own
 * hosts. `ipv6` (a firewall6 home): pinholes too, on the WAN interface (ext_ifname6).
 */
export function miniupnpdConfig(o: { testbed: string; home: Home; wan: string; lanIface: string; lanPrefix: string; ipv6?: boolean }): string {
  const h = createHash("sha256").update(`${o.testbed}/${o.home.host}`).digest("hex");
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return [
    `ext_ifname=${o.wan}`,
    ...(o.ipv6 ? [`ext_ifname6=${o.wan}`] : []),
    `listening_ip=${o.lanIface}`,
    `port=${UPNP_HTTP_PORT}`,
    "enable_upnp=yes",
    "enable_natpmp=yes",
    // A client may map ports only to its own address, as home routers ship. (miniupnpd checks a
    // pinhole's InternalClient against the sender's IPv6 address whatever this says: upnpsoap.c.)
    "secure_mode=yes",
    "system_uptime=yes",
    `uuid=${uuid}`,
    `allow 1024-65535 ${o.lanPrefix} 1024-65535`,
    "deny 0-65535 0.0.0.0/0 0-65535",
    "",
  ].join("\n");
}
