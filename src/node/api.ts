/**
 * The node's local API as one Hono app: /v1/status, /metrics (Prometheus text), then each component's routes under its own prefix.
 * Routes are chained and mounted with app.route() so that the app's type, NodeApi, describes every path,
 * input and answer: the typed client (api/client.ts) is built from it.
 */
import { Hono } from "hono";
import { installErrorHandler } from "../api/http.ts";
import type { Logger } from "../log.ts";
import type { IconNode } from "./node.ts";

export function nodeApi(node: IconNode, log: Logger) {
  const { dht, peer, topology, yard } = node.parts;
  const app = new Hono()
    .get("/v1/status", async (c) => c.json(await node.status()))
    .get("/metrics", async (c) => c.body(await node.metrics.text(), 200, { "content-type": node.metrics.contentType }))
    .route("/v1/dht", dht.routes())
    .route("/v1", topology.routes())
    .route("/v1/icons", yard.routes())
    .route("/v1", peer.routes())
    .route("/v1/admission", peer.admissionRoutes());
  installErrorHandler(app, (e) => log.error("local API request failed", { error: e as Error }));
  return app;
}

export type NodeApi = ReturnType<typeof nodeApi>;
