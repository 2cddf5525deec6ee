/**
 * The peer protocol's local API, mounted at /v1: the open connections to other nodes (`icon peers`) and
 * the migrations this node made, oldest first.
 */
import { Hono } from "hono";
import type { MigrationHistory } from "./history.ts";
import type { PeerNetwork } from "./network.ts";

export function peerRoutes(network: () => PeerNetwork, history: MigrationHistory) {
  return new Hono()
    .get("/peers", (c) =>
      c.json(network().connections().map((p) => ({ nodeId: p.nodeId, direction: p.direction, endpoint: p.endpoint ?? null, openedAt: new Date(p.openedAt).toISOString() }))),
    )
    .get("/migrations", (c) => c.json(history.list()));
}
