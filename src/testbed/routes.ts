/**
 * Static routes, as an IGP would leave them: every router reaches each announced prefix through the
 * first hop of its shortest path (by delay, paths.ts) to the nearest node holding an address in that
 * prefix; hosts have a default route to their one neighbour.
 */
import { IconError } from "../errors.ts";
import { adjacency, shortestPaths } from "./paths.ts";
import type { NodePlan, RoutePlan } from "./plan.ts";
import type { NetworkSpec } from "./topology.ts";

/** A prefix the routers route to, and the nodes holding an address in it. */
export interface Announcement {
  prefix: string;
  owners: string[];
}

/** Fills `routes` (and `routes6` when `v6` is given) of every node. */
export function addRoutes(network: NetworkSpec, nodes: NodePlan[], v4: Announcement[], v6?: Announcement[]): void {
  const adj = adjacency(network);
  for (const n of nodes) {
    const i0 = n.ifaces[0]!;
    if (n.kind === "host") {
      n.routes.push({ to: "default", via: i0.peerAddress, dev: i0.name });
      if (v6) n.routes6 = [{ to: "default", via: i0.peerAddress6!, dev: i0.name }];
      continue;
    }
    const tree = shortestPaths(network, n.name, adj);
    const routes = (list: Announcement[], six: boolean): RoutePlan[] =>
      list.flatMap((a) => {
        if (a.owners.includes(n.name)) return []; // connected
        const nearest = [...a.owners].sort((x, y) => tree.dist.get(x)! - tree.dist.get(y)! || (x < y ? -1 : 1))[0]!;
        const hop = tree.firstHop.get(nearest);
        const i = n.ifaces.find((f) => f.peerNode === hop);
        if (!i) throw new IconError("INTERNAL", `no path from ${n.name} to ${nearest}`);
        return [{ to: a.prefix, via: six ? i.peerAddress6! : i.peerAddress, dev: i.name }];
      });
    n.routes = routes(v4, false);
    if (v6) n.routes6 = routes(v6, true);
  }
}
