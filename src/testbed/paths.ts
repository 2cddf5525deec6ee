/**
 * Shortest paths by one-way delay over a topology (Dijkstra). Routes are computed from these, never
 * written by hand, and `testbed ping` takes its targets from them. Ties break on hop count then name,
 * so the same topology always gives the same routes.
 */
import type { NetworkSpec } from "./topology.ts";

export interface PathTree {
  /** Summed one-way delay from the source, ms. */
  dist: Map<string, number>;
  /** The neighbour of the source on the chosen path to each node. */
  firstHop: Map<string, string>;
  /** The node before each node on its path (to walk a path back). */
  prev: Map<string, string>;
}

export function adjacency(t: NetworkSpec): Map<string, { peer: string; delayMs: number }[]> {
  const adj = new Map<string, { peer: string; delayMs: number }[]>();
  for (const n of [...t.hosts, ...t.routers]) adj.set(n.name, []);
  for (const l of t.links) {
    adj.get(l.a)!.push({ peer: l.b, delayMs: l.delayMs });
    adj.get(l.b)!.push({ peer: l.a, delayMs: l.delayMs });
  }
  return adj;
}

export function shortestPaths(t: NetworkSpec, source: string, adj = adjacency(t)): PathTree {
  const hosts = new Set(t.hosts.map((h) => h.name));
  const dist = new Map<string, number>([[source, 0]]);
  const hops = new Map<string, number>([[source, 0]]);
  const firstHop = new Map<string, string>();
  const prev = new Map<string, string>();
  const done = new Set<string>();
  const better = (a: string, b: string) =>
    dist.get(a)! - dist.get(b)! || hops.get(a)! - hops.get(b)! || (a < b ? -1 : 1);
  for (;;) {
    let u: string | undefined;
    for (const n of dist.keys()) if (!done.has(n) && (u === undefined || better(n, u) < 0)) u = n;
    if (u === undefined) break;
    done.add(u);
    // Hosts are leaves: a path may end at a host but never pass through one.
    if (u !== source && hosts.has(u)) continue;
    for (const { peer, delayMs } of adj.get(u) ?? []) {
      if (done.has(peer)) continue;
      const d = dist.get(u)! + delayMs, h = hops.get(u)! + 1;
      const old = dist.get(peer);
      if (old === undefined || d < old - 1e-9 || (Math.abs(d - old) < 1e-9 && (h < hops.get(peer)! || (h === hops.get(peer)! && u < prev.get(peer)!)))) {
        dist.set(peer, d);
        hops.set(peer, h);
        prev.set(peer, u);
        firstHop.set(peer, u === source ? peer : firstHop.get(u)!);
      }
    }
  }
  return { dist, firstHop, prev };
}

/** The nodes after `from` on the path to `to`, ending with `to`. */
export function pathOf(tree: PathTree, to: string): string[] {
  const nodes: string[] = [];
  for (let n: string | undefined = to; n !== undefined && tree.prev.has(n); n = tree.prev.get(n)) nodes.unshift(n);
  return nodes;
}

/** The round-trip time a path promises: twice the summed one-way delays to `node`, to the µs. */
export function rttTargetMs(tree: PathTree, node: string): number {
  return Math.round(2 * tree.dist.get(node)! * 1000) / 1000;
}
