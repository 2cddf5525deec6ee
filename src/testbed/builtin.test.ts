import { describe, expect, test } from "bun:test";
import { randomTopology, thesisTopology } from "./builtin.ts";
import { pathOf, shortestPaths } from "./paths.ts";
import { rttTargets } from "./ping.ts";

describe("built-in topologies", () => {
  test("thesis: RTTs 92 / 14 / 102 ms and seven hops UD to IEP1 (thesis fig 3.6)", () => {
    const t = thesisTopology();
    const rtt = rttTargets(t);
    expect(rtt.get("UD IEP1")).toBe(92);
    expect(rtt.get("UD IEP2")).toBe(14);
    expect(rtt.get("IEP1 IEP2")).toBe(102);
    expect(rtt.get("IEP2 IEP1")).toBe(102);
    expect(pathOf(shortestPaths(t, "UD"), "IEP1")).toEqual(["r1", "r2", "r4", "r5", "r6", "r7", "IEP1"]);
    expect(t.links.find((l) => l.a === "r5" && l.b === "r6")?.rateMbit).toBe(10);
  });

  test("random: same seed, same network; another seed, another network; host names fixed", () => {
    const a = randomTopology({ seed: 7 }), b = randomTopology({ seed: 7 }), c = randomTopology({ seed: 8 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a.links)).not.toBe(JSON.stringify(c.links));
    expect(a.hosts.map((h) => h.name)).toEqual(["IEP1", "IEP2", "IEP3", "UD1", "UD2", "UD3"]);
    expect(randomTopology({ seed: 1, hosts: 3 }).hosts.map((h) => h.name)).toEqual(["IEP1", "IEP2", "UD1"]);
  });

  test("random: tiers, every host reaches every other through routers only", () => {
    for (let seed = 0; seed < 30; seed++) {
      const t = randomTopology({ seed, hosts: 8 });
      expect(t.routers.some((r) => r.name.startsWith("c"))).toBe(true);
      const tree = shortestPaths(t, "UD1");
      for (const h of t.hosts) if (h.name !== "UD1") {
        const path = pathOf(tree, h.name);
        expect(path.at(-1)).toBe(h.name);
        expect(path.slice(0, -1).every((n) => /^[cae]\d+$/.test(n))).toBe(true);
      }
    }
  });
});
