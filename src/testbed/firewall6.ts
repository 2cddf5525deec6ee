/**
 * A home router's IPv6 firewall (`"firewall6": true`). Homes route IPv6 without NAT, and home routers
 * ship a stateful filter that drops unsolicited inbound traffic (RFC 6092, "simple security"); a node at
 * home must open pinholes for its ports (UPnP IGDv2 WANIPv6FirewallControl, PCP MAP) or its IPv6
 * dial-backs fail. Rules are for the *legacy* ip6tables: miniupnpd (iptables build) programs pinholes
 * there, into the filter chain MINIUPNPD that we create, as for IPv4 (homes.ts).
 *
 * Only FORWARD from the WAN side is filtered. Outbound traffic, and traffic to the router itself
 * (neighbour discovery, UPnP and PCP on the LAN), are untouched.
 */
import { dports, type Home } from "./homes.ts";
import type { Rule } from "./plan.ts";

/**
 * ICMPv6 a home router passes unsolicited. The errors RFC 4890 4.3.1 says a firewall must not drop in
 * transit (conntrack admits those about tracked flows as RELATED anyway). Echo requests too (RFC 4890
 * 4.3.1 lists them; RFC 6092 3.2.1 lets a router forward them for application transparency): a host at
 * home then answers `ping -6`, so `testbed ping --ipv6` measures every pair, and a ping says nothing a
 * closed port would not. Echo replies need no rule: they answer the host's own requests (ESTABLISHED).
 */
export const ICMP6_PASSED = ["destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem", "echo-request"] as const;

/** The chain miniupnpd appends pinholes to (miniupnpd/netfilter/iptpinhole.c), jumped from FORWARD. */
export const PINHOLE_CHAIN = "MINIUPNPD";

export interface Firewall6Tables {
  /** Extra filter chains. */
  chains: string[];
  raw: Rule[];
  filter: Rule[];
}

/** The home router's IPv6 filter: `wan` faces the Internet; `host6` is the home host's global address. */
export function firewall6Tables(home: Home, wan: string, host6: string): Firewall6Tables {
  const t: Firewall6Tables = {
    chains: [],
    // As for IPv4 (homes.ts natTables): a router's own ICMPv6 error for a tracked packet would carry its
    // unconfirmed conntrack entry and vanish in the delay queue, so traceroute -6 would miss the router.
    raw: ["PREROUTING -m hl --hl-lt 2 -j CT --notrack"],
    filter: [
      `FORWARD -i ${wan} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
      ...ICMP6_PASSED.map((type) => `FORWARD -i ${wan} -p ipv6-icmp -m icmp6 --icmpv6-type ${type} -j ACCEPT`),
    ],
  };
  if (home.kind === "upnp") {
    // As miniupnpd's own ip6tables_init.sh does it.
    t.chains.push(PINHOLE_CHAIN);
    t.filter.push(`FORWARD -i ${wan} ! -o ${wan} -j ${PINHOLE_CHAIN}`);
  }
  if (home.kind === "static")
    for (const r of home.forward ?? [])
      for (const proto of ["udp", "tcp"]) t.filter.push(`FORWARD -i ${wan} -d ${host6}/128 -p ${proto} -m ${proto} --dport ${dports(r)} -j ACCEPT`);
  t.filter.push(`FORWARD -i ${wan} -j DROP`);
  return t;
}
