import { describe, expect, test } from "bun:test";
import { thesisTopology } from "./builtin.ts";
import { configScript } from "./netns.ts";
import { makePlan } from "./plan.ts";
import { statusOf } from "./state.ts";
import { withVariant } from "./topology.ts";

/** The thesis network with IEP2 behind UPnP, IEP1 behind a static forward and UD behind CGNAT. */
const homes = (firewall6: boolean) =>
  makePlan("tb", withVariant(thesisTopology(), { ipv6: true, nat: [["IEP2", "upnp"], ["IEP1", "static"], ["UD", "cgnat"]], firewall6 }), false);

describe("a home router's IPv6 firewall", () => {
  const plan = homes(true);
  const node = (n: string) => plan.nodes.find((x) => x.name === n)!;
  const filter = (n: string) => node(n).nat!.tables6!.filter;

  test("replies and the ICMPv6 a router must pass are accepted first, unsolicited inbound dropped last, outbound untouched", () => {
    const f = filter("IEP2_gw");
    expect(f[0]).toBe("FORWARD -i r3 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
    for (const type of ["destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem", "echo-request"])
      expect(f).toContain(`FORWARD -i r3 -p ipv6-icmp -m icmp6 --icmpv6-type ${type} -j ACCEPT`);
    expect(f.some((r) => r.includes("echo-reply"))).toBe(false);
    expect(f.at(-1)).toBe("FORWARD -i r3 -j DROP");
    // Every rule is about what comes in from the WAN side.
    expect(f.every((r) => r.startsWith("FORWARD -i r3 "))).toBe(true);
    expect(node("IEP2_gw").nat!.tables6!.raw).toEqual(["PREROUTING -m hl --hl-lt 2 -j CT --notrack"]);
  });

  test("upnp: a MINIUPNPD chain of ours, jumped to before the drop, for miniupnpd's pinholes", () => {
    const t = node("IEP2_gw").nat!.tables6!;
    expect(t.chains).toEqual(["MINIUPNPD"]);
    const jump = t.filter.indexOf("FORWARD -i r3 ! -o r3 -j MINIUPNPD");
    expect(jump).toBeGreaterThan(0);
    expect(jump).toBeLessThan(t.filter.length - 1);
  });

  test("static: the forwarded ports open to the host's IPv6 address, UDP and TCP, and nothing else", () => {
    const f = filter("IEP1_gw"), host6 = node("IEP1").address6!;
    expect(f.filter((r) => r.includes("--dport"))).toEqual(["4100", "4101", "20000:20999"].flatMap((p) =>
      ["udp", "tcp"].map((proto) => `FORWARD -i r7 -d ${host6}/128 -p ${proto} -m ${proto} --dport ${p} -j ACCEPT`)));
    expect(node("IEP1_gw").nat!.tables6!.chains).toEqual([]);
  });

  test("cgnat: the home router filters (no holes), the carrier does not", () => {
    expect(filter("UD_gw").filter((r) => r.includes("--dport") || r.includes("MINIUPNPD"))).toEqual([]);
    expect(filter("UD_gw").at(-1)).toBe("FORWARD -i UD_cgn -j DROP");
    expect(node("UD_cgn").nat!.tables6).toBeUndefined();
  });

  test("the config script puts every IPv6 rule of the home router in the legacy tables: raw, delay (neighbour discovery first), filter", () => {
    const s = configScript(node("IEP2_gw"));
    const six = s.slice(s.indexOf("ip6tables-legacy-restore <<'EOF'"));
    expect(s).not.toContain("\nip6tables-restore");
    const at = (line: string) => {
      const i = six.indexOf(line);
      expect({ line, found: i >= 0 }).toEqual({ line, found: true });
      return i;
    };
    expect(at("*raw")).toBeLessThan(at("-A PREROUTING -m hl --hl-lt 2 -j CT --notrack"));
    expect(at("-A PREROUTING -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT")).toBeLessThan(at("NFQUEUE"));
    expect(at("*filter\n:FORWARD ACCEPT [0:0]\n:MINIUPNPD - [0:0]")).toBeLessThan(at("-A FORWARD -i r3 -j DROP"));
    expect(six.split("\n").filter((l) => l === "COMMIT")).toHaveLength(3);
    // The carrier keeps its IPv6 delay rules where every router has them.
    expect(configScript(node("UD_cgn"))).toContain("\nip6tables-restore <<'EOF'");
  });

  test("miniupnpd serves IPv6 (no -4, ext_ifname6) only where the home has the firewall", () => {
    expect(node("IEP2_gw").nat!.upnp).toMatchObject({ ipv6: true });
    expect(node("IEP2_gw").nat!.upnp!.config).toContain("ext_ifname=r3\next_ifname6=r3\n");
    const open = homes(false).nodes.find((n) => n.name === "IEP2_gw")!;
    expect(open.nat!.upnp!.ipv6).toBeUndefined();
    expect(open.nat!.upnp!.config).not.toContain("ext_ifname6");
  });

  test("status says firewall6 per home, and where the IGD and PCP answer over IPv6", () => {
    const st = statusOf({ version: 1, phase: "up", docker: false, request: "", plan, createdAt: "" }, true);
    const nat = (h: string) => st.hosts.find((x) => x.name === h)!.nat!;
    expect(st.hosts.filter((h) => h.nat).map((h) => [h.name, h.nat!.firewall6])).toEqual([["UD", true], ["IEP1", true], ["IEP2", true]]);
    expect(nat("IEP2").gatewayAddress6).toBe("2d00:1c0:1003::1");
    expect(nat("IEP2").upnp).toEqual({
      igd: "http://192.168.3.1:5000/rootDesc.xml", natpmp: "192.168.3.1:5351",
      igd6: "http://[2d00:1c0:1003::1]:5000/rootDesc.xml", pcp6: "[2d00:1c0:1003::1]:5351", miniupnpd: "running",
    });
  });
});

describe("without firewall6 nothing changes", () => {
  const plan = homes(false);

  test("no IPv6 filter, no legacy ip6tables, IPv6 routed to the home unfiltered", () => {
    for (const n of plan.nodes) {
      expect(n.nat?.tables6).toBeUndefined();
      expect(configScript(n)).not.toContain("ip6tables-legacy");
    }
    const st = statusOf({ version: 1, phase: "up", docker: false, request: "", plan, createdAt: "" }, true);
    const iep2 = st.hosts.find((h) => h.name === "IEP2")!.nat!;
    expect(iep2.firewall6).toBe(false);
    expect(iep2.upnp).toEqual({ igd: "http://192.168.3.1:5000/rootDesc.xml", natpmp: "192.168.3.1:5351", miniupnpd: "running" });
  });
});
