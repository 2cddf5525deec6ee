/**
 * The traceroute for real. On loopback (any user): the CLI contract and its errors. In a thesis testbed
 * (root): the routers' addresses hop by hop, RTTs that match the emulated links, the end as soon as the
 * destination answered, a silent destination given up on a derived time (not the cap), a silent router,
 * a lost answer retried, the same path over IPv6 (ICMPv6), and the compiled binary run as an unprivileged user.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { thesisTopology } from "../src/testbed/builtin.ts";
import { down, inHost, up } from "../src/testbed/index.ts";
import { pathOf, shortestPaths } from "../src/testbed/paths.ts";
import { withVariant } from "../src/testbed/topology.ts";
import type { TestbedStatus } from "../src/testbed/state.ts";
import type { TraceResult } from "../src/topology/trace/types.ts";
import { BINARY, describeWith } from "./support/needs.ts";
import { CLI, sh } from "./support/run.ts";

const NAME = "trtest";

describe("icon trace on loopback", () => {
  test("--json prints the documented object", () => {
    const r = sh([...CLI, "trace", "127.0.0.1", "--max-ttl", "4", "--json"]);
    expect(r.exitCode).toBe(0);
    const t = JSON.parse(r.stdout.toString());
    expect(Object.keys(t).sort()).toEqual(["destination", "elapsedMs", "ended", "hops", "reached"]);
    expect(t).toMatchObject({ destination: "127.0.0.1", reached: true, ended: "complete" });
    expect(t.hops).toEqual([{ ttl: 1, address: "127.0.0.1", rttMs: t.hops[0].rttMs, kind: "destination" }]);
    // progress: one JSON line per hop on stderr
    expect(JSON.parse(r.stderr.toString().trim().split("\n")[0]!)).toMatchObject({ type: "hop", ttl: 1 });
  });
  test("bad input exits with a message and a fix", () => {
    const bad = sh([...CLI, "trace", "10.0.0"]);
    expect(bad.exitCode).toBe(6);
    expect(bad.stderr.toString()).toMatch(/not an IP address[\s\S]*fix:/);
    const ttl = sh([...CLI, "trace", "127.0.0.1", "--max-ttl", "0"]);
    expect(ttl.exitCode).toBe(2);
    expect(ttl.stderr.toString()).toContain("--max-ttl 0 is not a whole number from 1 to 64");
    expect(sh([...CLI, "trace"]).exitCode).toBe(2);
  });
});

describeWith(["root"], "icon trace in the thesis testbed", () => {
  let st: TestbedStatus;
  const host = (n: string) => st.hosts.find((h) => h.name === n)!;
  const inNs = (node: string, cmd: string[]) => sh(inHost(st, node, cmd));
  /** Runs `body` with an iptables rule inserted in a host's or router's namespace, then deletes the rule. */
  const withRule = (node: string, rule: string[], body: () => void) => {
    expect(inNs(node, ["iptables", "-w", "-I", ...rule]).exitCode).toBe(0);
    try {
      body();
    } finally {
      inNs(node, ["iptables", "-w", "-D", ...rule]);
    }
  };
  const trace = (from: string, to: string, ...flags: string[]): TraceResult => {
    const r = inNs(from, [...CLI, "trace", host(to).address, "--json", ...flags]);
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    return JSON.parse(r.stdout.toString());
  };
  /** The ingress address of every node on the routed path, and twice the summed delay to it. */
  const expected = (from: string, to: string, v6 = false) => {
    const tree = shortestPaths(thesisTopology(), from);
    const nodes = [from, ...pathOf(tree, to)];
    return nodes.slice(1).map((n, i) => {
      const l = st.links.find((l) => (l.a === nodes[i] && l.b === n) || (l.b === nodes[i] && l.a === n))!;
      const address = v6 ? (l.a === n ? l.aAddress6 : l.bAddress6) : l.a === n ? l.aAddress : l.bAddress;
      return { node: n, address, rttMs: 2 * tree.dist.get(n)! };
    });
  };

  beforeAll(async () => {
    await down(NAME);
    st = await up({ name: NAME, topology: withVariant(thesisTopology(), { ipv6: true }), docker: false });
  });
  afterAll(async () => {
    await down(NAME);
  });

  /** Three traces UD → IEP1 in one family: every hop's ingress address, and RTTs of the emulated links. */
  const sevenHops = (v6: boolean) => {
    const want = expected("UD", "IEP1", v6);
    const to = v6 ? host("IEP1").address6! : host("IEP1").address;
    const runs = [0, 1, 2].map(() => {
      const r = inNs("UD", [...CLI, "trace", to, "--json"]);
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
      return JSON.parse(r.stdout.toString()) as TraceResult;
    });
    for (const r of runs) {
      expect(r).toMatchObject({ destination: to, reached: true, ended: "complete" });
      expect(r.hops.map((h) => h.address)).toEqual(want.map((w) => w.address));
      expect(r.hops.map((h) => h.kind)).toEqual([...Array(6).fill("router"), "destination"]);
    }
    // the smallest of three per hop: a loaded machine only ever adds delay (the delay process itself
    // releases packets up to a few tenths of a ms early, testbed README)
    want.forEach((w, i) => {
      const best = Math.min(...runs.map((r) => r.hops[i]!.rttMs!));
      expect(best).toBeGreaterThanOrEqual(w.rttMs - 0.5);
      expect(best).toBeLessThanOrEqual(w.rttMs + 1 + 0.03 * w.rttMs);
    });
  };

  test("UD → IEP1: seven hops, each router's ingress address, RTTs of the emulated links", () => sevenHops(false));

  test("UD → IEP1 over IPv6: the same seven hops by their IPv6 ingress addresses, ICMPv6 answers, same RTTs", () => sevenHops(true));

  test("a destination that drops probes is given up on a derived wait, not the 1500 ms cap", () => {
    withRule("IEP1", ["INPUT", "-p", "udp", "--dport", "33434:33561", "-j", "DROP"], () => {
      const r = trace("UD", "IEP1");
      expect(r.reached).toBe(false);
      expect(r.ended).toBe("timeout");
      expect(r.hops.map((h) => h.address)).toEqual(expected("UD", "IEP1").slice(0, 6).map((w) => w.address));
      expect(r.elapsedMs).toBeLessThan(1500);
    });
  });

  test("a router that never answers is a silent hop; the trace still reaches the destination", () => {
    withRule("r4", ["OUTPUT", "-p", "icmp", "--icmp-type", "time-exceeded", "-j", "DROP"], () => {
      const r = trace("UD", "IEP1");
      expect(r.reached).toBe(true);
      expect(r.ended).toBe("timeout"); // waited for hop 3, retried it, gave it up
      expect(r.hops[2]).toEqual({ ttl: 3, kind: "silent" });
      expect(r.hops.filter((h) => h.kind === "silent")).toHaveLength(1);
    });
  });

  test("a lost answer is retried once and the retry's answer fills the hop", () => {
    // r2 drops every other time-exceeded it sends: the first probe's answer, not the retry's
    const rule = ["OUTPUT", "-p", "icmp", "--icmp-type", "time-exceeded", "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP"];
    withRule("r2", rule, () => {
      const r = trace("UD", "IEP1");
      expect(r.reached).toBe(true);
      expect(r.hops[1]).toMatchObject({ ttl: 2, address: expected("UD", "IEP1")[1]!.address, kind: "router", retried: true });
      expect(r.ended).toBe("complete");
    });
  });

  test("beyond the testbed: the first router says net unreachable and the path ends there", () => {
    // 192.0.2.0/24 (TEST-NET-1) is routed nowhere inside the testbed; nothing leaves it.
    const out = inNs("UD", [...CLI, "trace", "192.0.2.1", "--json"]);
    const t = JSON.parse(out.stdout.toString()) as TraceResult;
    expect(t.reached).toBe(false);
    expect(t.hops).toEqual([{ ttl: 1, address: expected("UD", "IEP1")[0]!.address, rttMs: t.hops[0]!.rttMs, kind: "unreachable" }]);
    expect(t.ended).toBe("complete");
  });

  test("no route at all: UNREACHABLE (exit 5) with a fix", () => {
    const out = inNs("r1", [...CLI, "trace", "192.0.2.1"]);
    expect(out.exitCode).toBe(5);
    expect(out.stderr.toString()).toContain("no route to 192.0.2.1");
    expect(out.stderr.toString()).toContain("fix: Check this host's routing table");
  });

  describeWith(["binary"], "the compiled binary", () => {
    test("traces as an unprivileged user without capabilities", () => {
      const r = inNs("IEP2", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
        BINARY, "trace", host("UD").address, "--json"]);
      expect(r.exitCode).toBe(0);
      const t = JSON.parse(r.stdout.toString()) as TraceResult;
      expect(t.reached).toBe(true);
      expect(t.hops.map((h) => h.address)).toEqual(expected("IEP2", "UD").map((w) => w.address));
    });
  });
});
