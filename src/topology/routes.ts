/**
 * The topology's local API: the map (`icon topology`), the closest nodes to a client (`icon closest`;
 * `&fresh=1` traces and looks up again whatever the caches hold),
 * and harvesting an address (what an ICON's new client does through the runtime, here for scripts).
 */
import type { Hono } from "hono";
import { jsonBody } from "../api/http.ts";
import { IconError } from "../errors.ts";
import { requireIPv4 } from "../util/ipv4.ts";
import type { Topology } from "./topology.ts";

export function mountTopologyRoutes(app: Hono, topology: () => Topology, settings: () => Record<string, unknown>): void {
  app.get("/v1/topology", (c) => c.json({ settings: settings(), ...topology().snapshot() }));

  app.get("/v1/closest", async (c) => {
    const client = c.req.query("client");
    if (!client) throw new IconError("INVALID_INPUT", "missing ?client=IP", "Ask GET /v1/closest?client=192.0.2.10 (icon closest IP).");
    return c.json(await topology().closest(client, { fresh: c.req.query("fresh") === "1" }));
  });

  app.post("/v1/topology/harvest", async (c) => {
    const body = await jsonBody<{ address?: unknown; urgent?: unknown }>(c, 4096);
    if (typeof body.address !== "string") throw new IconError("INVALID_INPUT", "body needs an \"address\" string", 'Send {"address": "192.0.2.10", "urgent": true}.');
    requireIPv4(body.address, "address");
    topology().harvest(body.address, { urgent: body.urgent === true });
    return c.json({ harvested: body.address });
  });
}
