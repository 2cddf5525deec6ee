/**
 * The topology's local API, mounted at /v1: the map (`icon topology`), the closest nodes to a client
 * (`icon closest`; `fresh=1` traces and looks up again whatever the caches hold), forgetting what the
 * caches hold (`icon topology flush`), and harvesting an address (what an ICON's new client does through the runtime, here for scripts).
 */
import { Hono } from "hono";
import { jsonInput, queryInput } from "../api/http.ts";
import { IconError } from "../errors.ts";
import { requireIP } from "../util/ipv6.ts";
import type { Topology, TopologySettings } from "./topology.ts";

const harvestInput = jsonInput((body) => {
  if (typeof body.address !== "string") throw new IconError("INVALID_INPUT", "body needs an \"address\" string", 'Send {"address": "192.0.2.10", "urgent": true}.');
  requireIP(body.address, "address");
  return { address: body.address, urgent: body.urgent === true };
}, 4096);

export function topologyRoutes(topology: () => Topology, settings: () => TopologySettings) {
  return new Hono()
    .get("/topology", (c) => c.json({ settings: settings(), ...topology().snapshot() }))
    .get("/closest", queryInput<{ client: string; fresh?: "1" }>(), async (c) => {
      const { client, fresh } = c.req.valid("query");
      if (!client) throw new IconError("INVALID_INPUT", "missing ?client=IP", "Ask GET /v1/closest?client=192.0.2.10 (icon closest IP).");
      return c.json(await topology().closest(client, { fresh: fresh === "1" }));
    })
    .post("/topology/flush", (c) => c.json(topology().flush()))
    .post("/topology/harvest", harvestInput, (c) => {
      const { address, urgent } = c.req.valid("json");
      topology().harvest(address, { urgent });
      return c.json({ harvested: address });
    });
}
