/**
 * IPv6 and per-link numbering for real (root): the thesis network dual stack (ping -6 at the thesis
 * RTTs, traceroute -6 answered by every router), and a random network numbered per link, where the
 * thesis's /29 routerId is ambiguous: both ends of a link fall in one /29.
 */
import { expect, test } from "bun:test";
import { V6_PREFIX } from "../src/testbed/addressing.ts";
import { randomTopology, thesisTopology } from "../src/testbed/builtin.ts";
import { down } from "../src/testbed/lifecycle.ts";
import { pathOf, shortestPaths } from "../src/testbed/paths.ts";
import { pingMatrix } from "../src/testbed/ping.ts";
import type { TestbedStatus } from "../src/testbed/state.ts";
import { withVariant, type NetworkSpec } from "../src/testbed/topology.ts";
import { describeWith, rttShowsDelay } from "./support/needs.ts";
import { sh } from "./support/run.ts";
import { suiteTestbed } from "./support/testbed-io.ts";

const guardRoutes = () => sh(["ip", "-6", "route", "show", "type", "unreachable"]).stdout.toString();

/** The address each router on the path from `from` to `to` answers from: its end of the link the probe came in by. */
function ingress(st: TestbedStatus, t: NetworkSpec, from: string, to: string, six: boolean): string[] {
  const path = [from, ...pathOf(shortestPaths(t, from), to)];
  return path.slice(1).map((n, i) => {
    const l = st.links.find((l) => (l.a === path[i] && l.b === n) || (l.b === path[i] && l.a === n))!;
    return (l.a === n ? (six ? l.aAddress6 : l.aAddress) : six ? l.bAddress6 : l.bAddress)!;
  });
}

function trace(st: TestbedStatus, from: string, address: string, six: boolean): string[] {
  const host = st.hosts.find((h) => h.name === from)!;
  const r = sh(["ip", "netns", "exec", host.netns, "traceroute", ...(six ? ["-6"] : []), "-n", "-q", "1", "-w", "2", "-m", "15", address]);
  expect(r.exitCode).toBe(0);
  return r.stdout.toString().split("\n").slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)[1]!);
}

describeWith(["root"], "testbed: IPv6 on the thesis network", () => {
  const NAME = "tbsix";
  const topology = withVariant(thesisTopology(), { ipv6: true });
  let st: TestbedStatus;
  suiteTestbed(NAME, topology, (s) => (st = s));

  test("every host and router interface has a global IPv6 address inside the testbed's prefix; the prefix is guarded", () => {
    const head = V6_PREFIX.replace("::/32", ":");
    for (const h of st.hosts) expect(h.address6).toStartWith(head);
    for (const r of st.routers) for (const a of r.addresses6!) expect(a).toStartWith(head);
    expect(st.ipv6).toBe(true);
    expect(st.guards).toEqual([V6_PREFIX]);
    expect(guardRoutes()).toContain(`unreachable ${V6_PREFIX}`);
  });

  test("ping -6 between hosts shows the thesis RTTs: 92, 14, 102 ms", async () => {
    const results = await pingMatrix(st, topology, { count: 30, interval: 0.01, ipv6: true });
    expect(results.map((r) => r.targetMs).sort((a, b) => a - b)).toEqual([14, 92, 102]);
    for (const r of results) {
      expect(r.received).toBe(r.sent);
      expect({ pair: `${r.from}-${r.to}`, ok: rttShowsDelay(r.medianMs!, r.targetMs) }).toEqual({ pair: `${r.from}-${r.to}`, ok: true });
    }
  });

  test("traceroute -6 UD→IEP1 sees all seven hops, each router answering from its ingress address in its own /64", () => {
    const hops = trace(st, "UD", st.hosts.find((h) => h.name === "IEP1")!.address6!, true);
    expect(hops).toEqual(ingress(st, topology, "UD", "IEP1", true));
    expect(hops).toHaveLength(7);
    const net64 = (a: string) => a.split("::")[0];
    for (const r of st.routers) expect(new Set(r.addresses6!.map(net64)).size).toBe(1);
  });

  test("down removes the IPv6 guard route", async () => {
    await down(NAME);
    expect(guardRoutes()).not.toContain(V6_PREFIX);
  });
});

describeWith(["root"], "testbed: per-link numbering on a random network", () => {
  const NAME = "tblink";
  const topology = withVariant(randomTopology({ seed: 5, hosts: 4 }), { numbering: "per-link", ipv6: true });
  let st: TestbedStatus;
  suiteTestbed(NAME, topology, (s) => (st = s));

  const net29 = (a: string) => a.split(".").map(Number).map((x, i) => (i === 3 ? x & ~7 : x)).join(".");

  test("each router-to-router link is its own /30, so a /29 can name both ends of one link: routerIds are ambiguous", () => {
    expect(st.numbering).toBe("per-link");
    const routers = new Set(st.routers.map((r) => r.name));
    const core = st.links.filter((l) => routers.has(l.a) && routers.has(l.b));
    for (const l of core) expect(l.prefix).toMatch(/\/30$/);
    expect(core.some((l) => net29(l.aAddress) === net29(l.bAddress))).toBe(true);
    // ...and one router's interfaces fall in different /29s (per-router numbering never does that).
    expect(st.routers.some((r) => new Set(r.addresses.map(net29)).size > 1)).toBe(true);
    expect(st.routers.every((r) => r.block === undefined)).toBe(true);
    // Hosts keep their own /24 (the client /24 of the trace cache), shared with their access router.
    for (const h of st.hosts) expect(st.links.find((l) => l.a === h.name || l.b === h.name)!.prefix).toBe(h.address.replace(/\d+$/, "0/24"));
  });

  test("traffic is routed over both families, and traceroutes see each hop's ingress address", async () => {
    const results = await pingMatrix(st, topology, { count: 5, interval: 0.02 });
    for (const r of results) expect({ pair: `${r.from}-${r.to}`, ok: r.received > 0 && rttShowsDelay(r.medianMs!, r.targetMs) }).toEqual({ pair: `${r.from}-${r.to}`, ok: true });
    const six = await pingMatrix(st, topology, { count: 3, interval: 0.02, ipv6: true, pairs: [["IEP1", "UD2"]] });
    expect(six[0]!.received).toBeGreaterThan(0);
    const to = st.hosts.find((h) => h.name === "UD2")!;
    expect(trace(st, "IEP1", to.address, false)).toEqual(ingress(st, topology, "IEP1", "UD2", false));
    // IPv6 has no "answer from the inbound interface" switch: a router answers from the interface
    // towards the prober, which on a path with ties may not be the one the probe came in by.
    const path = pathOf(shortestPaths(topology, "IEP1"), "UD2");
    const hops6 = trace(st, "IEP1", to.address6!, true);
    expect(hops6).toHaveLength(path.length);
    expect(hops6.at(-1)).toBe(to.address6!);
    path.slice(0, -1).forEach((r, i) => expect(st.routers.find((x) => x.name === r)!.addresses6).toContain(hops6[i]!));
  }, 20_000);
});
