import { describe, expect, test } from "bun:test";
import { thesisTopology } from "./builtin.ts";
import { configScript } from "./netns.ts";
import { STATE_DIR } from "./names.ts";
import { makePlan } from "./plan.ts";
import { withLoss } from "./topology.ts";

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
