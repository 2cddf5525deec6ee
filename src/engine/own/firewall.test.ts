import { describe, expect, test } from "bun:test";
import { parseCidr } from "../../util/ipv4.ts";
import { DROPS, firewallRules, jumps, PRIVATE_RANGES, type FirewallPlan } from "./firewall.ts";

const plan: FirewallPlan = { chains: "ICON-abcd1234", bridge: "icon-abcd123456", subnet: parseCidr("10.201.7.0/24")!, egress: "internet", listen: "0.0.0.0" };
const rules = (p: FirewallPlan, published = [{ port: 20001, address: "10.201.7.2" }]) => firewallRules(p, published).split("\n");
const index = (lines: string[], part: string) => lines.findIndex((l) => l.includes(part));

describe("the node's firewall", () => {
  test("ICON to ICON is dropped before anything is accepted, inbound only when DNAT'd, replies always", () => {
    const r = rules(plan);
    const iconToIcon = index(r, `-i icon-abcd123456 -o icon-abcd123456 -m comment --comment ${DROPS.iconToIcon} -j DROP`);
    expect(iconToIcon).toBeGreaterThan(0);
    expect(r.findIndex((l) => l.endsWith("-j ACCEPT"))).toBeGreaterThan(iconToIcon);
    const dnatAccept = index(r, "-o icon-abcd123456 -m conntrack --ctstate DNAT -j ACCEPT");
    expect(index(r, `-o icon-abcd123456 -m comment --comment ${DROPS.inbound} -j DROP`)).toBe(dnatAccept + 1);
  });

  test("egress internet: every private, link-local, CGNAT, loopback and multicast range is dropped before the final accept", () => {
    const r = rules(plan);
    for (const range of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "224.0.0.0/3"]) {
      expect(PRIVATE_RANGES).toContain(range);
      const i = index(r, `-i icon-abcd123456 -d ${range} -m comment --comment ${DROPS.privateRange} -j DROP`);
      expect(i).toBeGreaterThan(index(r, "-i icon-abcd123456 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"));
      expect(i).toBeLessThan(index(r, "-A ICON-abcd1234-FWD -i icon-abcd123456 -j ACCEPT"));
    }
    expect(r).toContain("-A ICON-abcd1234-POST -s 10.201.7.0/24 ! -o icon-abcd123456 -j MASQUERADE");
  });

  test("egress none: nothing new leaves the bridge and nothing is masqueraded out; replies still pass", () => {
    const r = rules({ ...plan, egress: "none" });
    expect(r).toContain(`-A ICON-abcd1234-FWD -i icon-abcd123456 -m comment --comment ${DROPS.egressNone} -j DROP`);
    expect(r.some((l) => l.includes("-i icon-abcd123456 -j ACCEPT"))).toBe(false);
    expect(r.some((l) => l.includes("! -o icon-abcd123456 -j MASQUERADE"))).toBe(false);
    expect(r).toContain("-A ICON-abcd1234-FWD -i icon-abcd123456 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
  });

  test("the host itself is out of reach: INPUT from the bridge accepts replies only", () => {
    const r = rules(plan);
    expect(r).toContain("-A ICON-abcd1234-IN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    expect(r).toContain(`-A ICON-abcd1234-IN -m comment --comment ${DROPS.toHost} -j DROP`);
    expect(jumps(plan)).toContainEqual(["filter", "INPUT", ["-i", "icon-abcd123456", "-j", "ICON-abcd1234-IN"]]);
  });

  test("published ports: DNAT to the container on every local address, or only on the listen address", () => {
    expect(rules(plan)).toContain("-A ICON-abcd1234-DNAT -p tcp --dport 20001 -j DNAT --to-destination 10.201.7.2:20001");
    expect(rules({ ...plan, listen: "10.1.2.10" })).toContain("-A ICON-abcd1234-DNAT -d 10.1.2.10 -p tcp --dport 20001 -j DNAT --to-destination 10.201.7.2:20001");
    // From the bridge itself nothing is DNAT'd: an ICON cannot reach another through the host's ports.
    expect(jumps(plan)).toContainEqual(["nat", "PREROUTING", ["!", "-i", "icon-abcd123456", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "ICON-abcd1234-DNAT"]]);
  });

  test("the rules declare only the node's own chains (iptables-restore --noflush leaves every other chain alone)", () => {
    const declared = rules(plan).filter((l) => l.startsWith(":"));
    expect(declared).toEqual([":ICON-abcd1234-FWD - [0:0]", ":ICON-abcd1234-IN - [0:0]", ":ICON-abcd1234-DNAT - [0:0]", ":ICON-abcd1234-POST - [0:0]"]);
    expect(rules(plan).filter((l) => l.startsWith("-A")).every((l) => l.startsWith("-A ICON-abcd1234-"))).toBe(true);
  });

  test("IPv6: the same chains in ip6tables, DNAT to the ICON's IPv6 address, no egress and no masquerading", () => {
    const six = { ...plan, subnet6: "fdab:cd12:3456::/64" };
    const r = firewallRules(six, [{ port: 20001, address: "10.201.7.2", address6: "fdab:cd12:3456::242:a0a:2" }, { port: 20002, address: "10.201.7.3" }], 6).split("\n");
    expect(r).toContain("-A ICON-abcd1234-DNAT -p tcp --dport 20001 -j DNAT --to-destination [fdab:cd12:3456::242:a0a:2]:20001");
    expect(r.filter((l) => l.includes("--dport 20002"))).toEqual([]); // no IPv6 address: not published over IPv6
    const only = firewallRules({ ...six, listen6: "2d00:1c0:1:2::10" }, [{ port: 20001, address: "10.201.7.2", address6: "fdab:cd12:3456::2" }], 6);
    expect(only).toContain("-A ICON-abcd1234-DNAT -d 2d00:1c0:1:2::10 -p tcp --dport 20001 -j DNAT --to-destination [fdab:cd12:3456::2]:20001");
    expect(r).toContain(`-A ICON-abcd1234-FWD -i icon-abcd123456 -m comment --comment ${DROPS.egressIpv6} -j DROP`);
    expect(r.some((l) => l.includes("-i icon-abcd123456 -j ACCEPT") || l.includes("MASQUERADE") || l.includes("POST"))).toBe(false);
    // ICON to ICON and unpublished inbound are dropped as over IPv4, in the same order
    const iconToIcon = index(r, `--comment ${DROPS.iconToIcon} -j DROP`);
    expect(iconToIcon).toBeGreaterThan(0);
    expect(index(r, `-o icon-abcd123456 -m comment --comment ${DROPS.inbound} -j DROP`)).toBe(index(r, "--ctstate DNAT -j ACCEPT") + 1);
    // neighbour discovery with the gateway passes; anything else to the host is dropped after it
    expect(index(r, "--icmpv6-type neighbour-solicitation -j ACCEPT")).toBeLessThan(index(r, `--comment ${DROPS.toHost} -j DROP`));
    expect(jumps(six, 6).map(([, builtin]) => builtin)).toEqual(["FORWARD", "INPUT", "PREROUTING", "OUTPUT"]);
  });
});
