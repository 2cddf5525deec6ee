import { describe, expect, test } from "bun:test";
import { thesisTopology } from "./builtin.ts";
import { configScript } from "./netns.ts";
import { STATE_DIR } from "./names.ts";
import { splitDelay } from "./homes.ts";
import { makePlan, networkOf } from "./plan.ts";
import { rttTargets } from "./ping.ts";
import { withLoss, withVariant } from "./topology.ts";

const net29 = (a: string) => {
  const p = a.split(".").map(Number);
  return `${p[0]}.${p[1]}.${p[2]}.${p[3]! & ~7}`;
};

describe("plan of the thesis topology", () => {
  const plan = makePlan("tb", thesisTopology(), true);
  const node = (n: string) => plan.nodes.find((x) => x.name === n)!;

  test("names derive from the testbed name; IEP hosts get containers in docker mode", () => {
    expect(node("UD").netns).toBe("tb-UD");
    expect(node("IEP1").container).toBe("icon-tb-tb-IEP1");
    expect(node("UD").container).toBeUndefined();
    expect(makePlan("tb", thesisTopology(), false).nodes.every((n) => !n.container)).toBe(true);
  });

  test("engines: an engine for each container-owned host only, and engines imply containers", () => {
    expect(plan.nodes.every((n) => !n.engine)).toBe(true);
    const withEngines = makePlan("tb", thesisTopology(), false, true);
    const engines = withEngines.nodes.filter((n) => n.engine).map((n) => [n.name, n.container, n.engine!.socket]);
    expect(engines).toEqual([
      ["IEP1", "icon-tb-tb-IEP1", `${STATE_DIR}/tb-IEP1/d.sock`],
      ["IEP2", "icon-tb-tb-IEP2", `${STATE_DIR}/tb-IEP2/d.sock`],
    ]);
  });

  test("each router numbers every interface from its own /29; hosts sit in their own /24", () => {
    for (const r of plan.nodes.filter((n) => n.kind === "router")) {
      const block = r.address.replace("/29", "");
      for (const i of r.ifaces) expect(net29(i.address)).toBe(block);
      expect(new Set(r.ifaces.map((i) => i.address)).size).toBe(r.ifaces.length);
    }
    const hosts = plan.nodes.filter((n) => n.kind === "host").map((h) => h.address.split(".").slice(0, 3).join("."));
    expect(new Set(hosts).size).toBe(3);
    expect(node("UD").ifaces[0]!.peerAddress).toBe(node("r1").ifaces.find((i) => i.peerNode === "UD")!.address);
  });

  test("routes follow the shortest path: r2 reaches IEP1 through r4, IEP2 through r3", () => {
    const r2 = node("r2");
    const to = (prefix: string) => r2.routes.find((r) => r.to === prefix)!;
    expect(to("10.1.2.0/24").dev).toBe("r4");
    expect(to("10.1.3.0/24").dev).toBe("r3");
    expect(to(node("r7").address).dev).toBe("r4");
    expect(node("UD").routes).toEqual([{ to: "default", via: node("r1").ifaces[0]!.address, dev: "eth0" }]);
  });

  test("a client with extra /24s: one address in each on its interface, each block routed to it as one prefix", () => {
    const t = thesisTopology();
    const p = makePlan("tb", { ...t, hosts: t.hosts.map((h) => (h.name === "UD" ? { ...h, clientPrefixes: 300 } : h.name === "IEP1" ? { ...h, clientPrefixes: 2 } : h)) }, false);
    const n = (name: string) => p.nodes.find((x) => x.name === name)!;
    // The largest block first (512 /24s: 10.64.0.0/15), then IEP1's 2 (10.66.0.0/23), both aligned.
    expect(n("UD").clientBlock).toEqual({ prefix: "10.64.0.0/15", count: 300 });
    expect(n("IEP1").clientBlock).toEqual({ prefix: "10.66.0.0/23", count: 2 });
    expect(n("IEP2").clientBlock).toBeUndefined();
    const script = configScript(n("UD"));
    expect(script).toContain("addr add 10.64.0.10/32 dev eth0\n");
    expect(script).toContain("addr add 10.65.43.10/32 dev eth0\n"); // the 300th: 299 = 256 + 43
    expect(script).not.toContain("10.65.44.10");
    expect(n("r2").routes.find((r) => r.to === "10.64.0.0/15")?.dev).toBe("r1");
    expect(n("r2").routes.find((r) => r.to === "10.66.0.0/23")?.dev).toBe("r4");
    expect(n("UD").routes).toEqual([{ to: "default", via: n("r1").ifaces[0]!.address, dev: "eth0" }]);
  });

  test("every link direction is delayed exactly once, never on FORWARD", () => {
    const queues = plan.nodes.flatMap((n) => n.queues);
    expect(queues.length).toBe(2 * plan.topology.links.length);
    expect(new Set(queues.map((q) => q.label)).size).toBe(queues.length);
    const rules = plan.nodes.flatMap((n) => n.rules);
    expect(rules.some((r) => r.includes("FORWARD"))).toBe(false);
    expect(node("r1").rules).toContain("PREROUTING -i UD -j NFQUEUE --queue-num 0");
    expect(node("r1").rules).toContain("POSTROUTING -o UD -j NFQUEUE --queue-num 1");
    expect(node("r5").queues.find((q) => q.label === "r5>r6")?.delayMs).toBe(20);
    expect(node("UD").rules).toEqual([]);
  });

  test("the config script sets ICMP limits off, forwarding, rules, and tbf only on the core link", () => {
    const r5 = configScript(node("r5")), r1 = configScript(node("r1")), ud = configScript(node("UD"));
    expect(r5).toContain("echo 0 > ipv4/icmp_ratemask");
    expect(r5).toContain("echo 1 > ipv4/ip_forward");
    expect(ud).toContain("echo 0 > ipv4/ip_forward");
    expect(ud).toContain("echo 0 > ipv4/icmp_ratelimit");
    expect(r5).toMatch(/tc qdisc replace dev r6 root tbf rate 10mbit/);
    expect(configScript(node("r6"))).toMatch(/tc qdisc replace dev r5 root tbf rate 10mbit/);
    expect(r1).not.toContain("tbf");
    expect(r1).toContain("-A POSTROUTING -o r2 -j NFQUEUE --queue-num");
  });

  test("loss becomes a statistic DROP before the queue, in both directions", () => {
    const p = makePlan("tb", withLoss(thesisTopology(), 0.25), false);
    const r1 = p.nodes.find((n) => n.name === "r1")!.rules;
    expect(r1.slice(0, 4)).toEqual([
      "PREROUTING -i UD -m statistic --mode random --probability 0.25 -j DROP",
      "PREROUTING -i UD -j NFQUEUE --queue-num 0",
      "POSTROUTING -o UD -m statistic --mode random --probability 0.25 -j DROP",
      "POSTROUTING -o UD -j NFQUEUE --queue-num 1",
    ]);
  });
});

describe("plan of home networks, IPv6 and per-link numbering", () => {
  const t = withVariant(thesisTopology(), { ipv6: true, nat: [["IEP2", "upnp"], ["UD", "cgnat"]] });
  const plan = makePlan("tb", t, false);
  const node = (n: string) => plan.nodes.find((x) => x.name === n)!;

  test("a NAT host's link becomes its home's links, the delay split so every RTT stays", () => {
    expect(networkOf(plan).links.filter((l) => /UD|IEP2/.test(l.a + l.b)).map((l) => [l.a, l.b, l.delayMs])).toEqual([
      ["UD", "UD_gw", 0.166], ["UD_gw", "UD_cgn", 0.166], ["UD_cgn", "r1", 0.168],
      ["IEP2", "IEP2_gw", 0.5], ["IEP2_gw", "r3", 0.5],
    ]);
    for (const [pair, ms] of rttTargets(thesisTopology())) expect(rttTargets(networkOf(plan)).get(pair)).toBe(ms);
    expect(splitDelay(1, 3).reduce((a, b) => a + b)).toBe(1);
  });

  test("homes: LAN /24 behind the router, public /32 on the ISP's /29 (per-router), CGNAT in 100.64/10", () => {
    expect(plan.homes!.map((h) => [h.host, h.lanAddress, h.gatewayAddress, h.wanAddress, h.publicAddress])).toEqual([
      ["UD", "192.168.1.10", "192.168.1.1", "100.64.1.2", "6.0.1.2"],
      ["IEP2", "192.168.3.10", "192.168.3.1", "6.0.3.2", "6.0.3.2"],
    ]);
    expect(node("IEP2").address).toBe("192.168.3.10");
    const r3 = node("r3").ifaces.find((i) => i.peerNode === "IEP2_gw")!;
    expect([r3.address, r3.peerAddress, r3.prefixLen]).toEqual(["10.0.0.26", "6.0.3.2", undefined]);
    // Routers reach a home by its public /24, never its private LAN.
    const r2 = node("r2").routes.map((r) => r.to);
    expect(r2).toContain("6.0.3.0/24");
    expect(r2.some((p) => p.startsWith("192.168.") || p.startsWith("100.64."))).toBe(false);
    expect(node("IEP2_gw").routes.at(-1)).toEqual({ to: "default", via: "10.0.0.26", dev: "r3" });
  });

  test("NAT nodes: legacy tables with miniupnpd's chains, masquerade on the WAN, unsolicited inbound dropped, no tracking of expiring packets", () => {
    const gw = configScript(node("IEP2_gw")), cgn = configScript(node("UD_cgn"));
    expect(gw).toContain("iptables-legacy-restore");
    for (const line of [":MINIUPNPD - [0:0]", ":MINIUPNPD-POSTROUTING - [0:0]", "-A POSTROUTING -o r3 -j MASQUERADE", "-A FORWARD -i r3 -j DROP", "-A PREROUTING -m ttl --ttl-lt 2 -j CT --notrack"])
      expect(gw).toContain(line);
    expect(cgn).toContain("-A POSTROUTING -o r1 -j MASQUERADE");
    expect(cgn).not.toContain("MINIUPNPD");
    expect(configScript(node("r3"))).not.toContain("legacy");
    expect(node("IEP2_gw").nat!.upnp!.config).toContain("ext_ifname=r3\nlistening_ip=IEP2\n");
    expect(node("UD_gw").nat!.upnp).toBeUndefined();
  });

  test("static homes forward their ports (default: the node's DHT, peer and ICON ports) over UDP and TCP", () => {
    const p = makePlan("tb", withVariant(thesisTopology(), { nat: [["IEP1", "static"]] }), false);
    const nat = p.nodes.find((n) => n.name === "IEP1_gw")!.nat!.tables.nat;
    expect(nat).toContain("PREROUTING -i r7 -p udp -m udp --dport 4100 -j DNAT --to-destination 192.168.2.10");
    expect(nat).toContain("PREROUTING -i r7 -p tcp -m tcp --dport 20000:20999 -j DNAT --to-destination 192.168.2.10");
  });

  test("IPv6: every interface dual stack from the router's /64, hosts routed without NAT, ICMPv6 limits off, delay rules for both families", () => {
    for (const r of plan.nodes.filter((n) => n.kind === "router" && !n.nat))
      expect(new Set(r.ifaces.map((i) => i.address6!.split("::")[0])).size).toBe(1);
    // host 3's LAN: area 1, number 3, a /48 of its own (2d00:1c0:1003::/48), as a site has
    expect(node("IEP2").address6).toBe("2d00:1c0:1003::10");
    expect(node("r2").routes6!.find((r) => r.to === "2d00:1c0:1003::/64")!.dev).toBe("r3");
    const hosts48 = plan.nodes.filter((n) => n.kind === "host").map((n) => n.address6!.split(":").slice(0, 3).join(":"));
    expect(new Set(hosts48).size).toBe(hosts48.length);
    const r1 = configScript(node("r1"));
    expect(r1).toContain("echo 0 > ipv6/icmp/ratelimit");
    expect(r1).toContain("ip6tables-restore");
    // Neighbour discovery is not delayed, like ARP (not IP, so never queued).
    expect(r1.indexOf("-A PREROUTING -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT")).toBeLessThan(r1.lastIndexOf("NFQUEUE"));
    expect(r1).toMatch(/route replace 2d00:1c0:\S+ via \S+ dev \S+ onlink/);
    expect(configScript(makePlan("tb", thesisTopology(), false).nodes[0]!)).toContain("echo 1 > $f");
  });

  test("per-link: each router link its own /30 and /64, hosts keep their /24 with the router at .1", () => {
    const p = makePlan("tb", withVariant(thesisTopology(), { numbering: "per-link", ipv6: true }), false);
    const r2 = p.nodes.find((n) => n.name === "r2")!;
    expect(r2.ifaces.map((i) => [i.peerNode, i.address, i.prefixLen])).toEqual([["r1", "10.0.0.2", 30], ["r3", "10.0.0.5", 30], ["r4", "10.0.0.9", 30]]);
    expect(r2.address).toBe("");
    const r1 = p.nodes.find((n) => n.name === "r1")!;
    expect(r1.ifaces[0]).toMatchObject({ peerNode: "UD", address: "10.1.1.1", peerAddress: "10.1.1.10", prefixLen: 24, address6: "2d00:1c0:1001::1", prefixLen6: 64 });
    // The far side of a link is reached through the link's own prefix, not a router block.
    expect(r1.routes.find((r) => r.to === "10.0.0.4/30")).toEqual({ to: "10.0.0.4/30", via: "10.0.0.2", dev: "r2" });
    expect(r1.routes.some((r) => r.to === "10.0.0.0/30")).toBe(false); // connected
  });
});
