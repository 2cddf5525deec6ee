/**
 * The built-in topologies: `thesis` (thesis figure 3.6, delays from DESIGN.md "Thesis topology") and
 * `random` (a seeded hierarchical Internet, the test-network fuzzer thesis 3.4 proposed).
 */
import { seededRandom } from "../util/random.ts";
import { IconError } from "../errors.ts";
import { checkShape, MAX_ROUTER_LINKS, type LinkSpec, type NetworkSpec } from "./topology.ts";

/**
 * UD-IEP1 RTT 92 ms over seven hops, UD-IEP2 14 ms, IEP1-IEP2 102 ms; the r5-r6 core link is the
 * 10 Mbit/s bottleneck.
 */
export function thesisTopology(): NetworkSpec {
  const link = (a: string, b: string, delayMs: number, rateMbit?: number): LinkSpec =>
    rateMbit ? { a, b, delayMs, rateMbit } : { a, b, delayMs };
  return {
    source: "thesis",
    hosts: [{ name: "UD" }, { name: "IEP1" }, { name: "IEP2" }],
    routers: ["r1", "r2", "r3", "r4", "r5", "r6", "r7"].map((name) => ({ name })),
    links: [
      link("UD", "r1", 0.5),
      link("r1", "r2", 0.5),
      link("r2", "r3", 5),
      link("r3", "IEP2", 1),
      link("r2", "r4", 5),
      link("r4", "r5", 10),
      link("r5", "r6", 20, 10),
      link("r6", "r7", 9),
      link("r7", "IEP1", 1),
    ],
  };
}

export interface RandomOptions {
  seed: number;
  /** Number of hosts: IEP1..IEPk then UD1..UDm with k = ceil(hosts/2), m = floor(hosts/2). */
  hosts?: number;
}

/**
 * Three tiers like the Internet's hierarchy (thesis 3.4): core routers c1.. in a full mesh with long
 * links (8-30 ms), regional routers a1.. under one or two cores (2-10 ms), access routers e1.. under
 * one regional (0.5-3 ms), and hosts at the leaves (0.2-2 ms). Host names do not depend on the seed.
 */
export function randomTopology(opts: RandomOptions): NetworkSpec {
  const { seed } = opts;
  const hostCount = opts.hosts ?? 6;
  if (!Number.isInteger(seed) || seed < 0) throw new IconError("USAGE", `--seed ${seed} is not a whole number ≥ 0`, "Give --seed a number such as 7.");
  if (!Number.isInteger(hostCount) || hostCount < 2 || hostCount > 40)
    throw new IconError("USAGE", `--hosts ${hostCount} is not 2..40`, "Give --hosts a number from 2 to 40.");
  const r = seededRandom(seed); // mulberry32: the same network for a seed on every machine
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const ms = (lo: number, hi: number) => Math.round((lo + r() * (hi - lo)) * 10) / 10;
  const links: LinkSpec[] = [];
  const degree = new Map<string, number>();
  const connect = (a: string, b: string, delayMs: number) => {
    links.push({ a, b, delayMs });
    for (const n of [a, b]) degree.set(n, (degree.get(n) ?? 0) + 1);
  };
  const free = (n: string) => (degree.get(n) ?? 0) < MAX_ROUTER_LINKS;
  const pick = (from: string[]) => {
    const open = from.filter(free);
    if (!open.length) throw new IconError("INTERNAL", "random topology ran out of router ports");
    return open[int(0, open.length - 1)]!;
  };

  const cores = Array.from({ length: int(3, 4) }, (_, i) => `c${i + 1}`);
  for (let i = 0; i < cores.length; i++) for (let j = i + 1; j < cores.length; j++) connect(cores[i]!, cores[j]!, ms(8, 30));
  const regionals = Array.from({ length: int(3, 5) }, (_, i) => `a${i + 1}`);
  for (const a of regionals) {
    const first = pick(cores);
    connect(a, first, ms(2, 10));
    if (r() < 0.4) {
      const second = pick(cores.filter((c) => c !== first));
      connect(a, second, ms(2, 10));
    }
  }
  const access: string[] = [];
  const accessCount = Math.max(regionals.length, Math.ceil(hostCount / 2) + int(0, 2));
  for (let i = 0; i < accessCount; i++) {
    const e = `e${i + 1}`;
    access.push(e);
    // Every regional gets one access router first, then the rest are spread at random.
    connect(e, i < regionals.length ? regionals[i]! : pick(regionals), ms(0.5, 3));
  }
  const k = Math.ceil(hostCount / 2);
  const hostNames = [...Array.from({ length: k }, (_, i) => `IEP${i + 1}`), ...Array.from({ length: hostCount - k }, (_, i) => `UD${i + 1}`)];
  for (const h of hostNames) connect(h, pick(access), ms(0.2, 2));
  const t: NetworkSpec = {
    source: `random:${seed}`,
    hosts: hostNames.map((name) => ({ name })),
    routers: [...cores, ...regionals, ...access].map((name) => ({ name })),
    links,
  };
  checkShape(t);
  return t;
}
