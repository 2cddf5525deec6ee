/**
 * The DHT's local API routes, mounted at /v1/dht and used by `icon dht put|get|peers`. Long operations
 * stream their progress events as NDJSON (api/http.ts), then the result or a typed error.
 */
import { Hono } from "hono";
import { jsonInput, ndjson, type Emit } from "../api/http.ts";
import { IconError } from "../errors.ts";
import type { Dht } from "./dht.ts";
import type { PutCompletion } from "./publisher.ts";
import type { DhtEvent } from "./events.ts";

function keyField(body: Record<string, unknown>, field = "key"): string {
  const v = body[field];
  if (typeof v !== "string" || v.length === 0 || v.length > 1024)
    throw new IconError("INVALID_INPUT", `"${field}" must be a non-empty string of at most 1024 characters`);
  return v;
}

/** A value as text when it is UTF-8, else base64 (with `encoding` saying so). */
export function renderValue(bytes: Uint8Array): { value: string; encoding?: "base64" } {
  try {
    return { value: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { value: Buffer.from(bytes).toString("base64"), encoding: "base64" };
  }
}

const putInput = jsonInput((body): { key: string; value: string; wait?: "quorum" | "all" } => {
  const key = keyField(body);
  if (typeof body.value !== "string") throw new IconError("INVALID_INPUT", '"value" must be a string');
  const wait = body.wait ?? "quorum";
  if (wait !== "quorum" && wait !== "all") throw new IconError("INVALID_INPUT", '"wait" must be "quorum" or "all"');
  return { key, value: body.value, wait };
});

const getInput = jsonInput((body): { key: string; publisher?: string } => {
  const key = keyField(body);
  const publisher = body.publisher;
  if (publisher !== undefined && (typeof publisher !== "string" || !/^[0-9a-f]{40}$/.test(publisher)))
    throw new IconError("INVALID_INPUT", '"publisher" must be a node id (40 hex digits)');
  return publisher === undefined ? { key } : { key, publisher: publisher as string };
});

export function dhtRoutes(dht: () => Dht) {
  return new Hono()
    .get("/peers", (c) => c.json(dht().peers()))
    // Answers once a quorum of the closest nodes holds the value (the rest go on in the background), or with
    // wait "all" once every one answered or gave up: then `complete` says how they all ended.
    .post("/put", putInput, (c) => {
      const { key, value, wait } = c.req.valid("json");
      return ndjson(async (emit: Emit<DhtEvent>) => {
        const { complete, ...r } = await dht().put(key, value, { onEvent: emit });
        if (!r.ok)
          throw new IconError("FAILED", `the value reached only ${r.replicas} of the ${r.targets} closest nodes`,
            "Check that the node has peers (icon dht peers) and that they are reachable, then put it again.");
        const report: typeof r & { complete?: PutCompletion } = r;
        if (wait === "all") report.complete = await complete;
        return report;
      });
    })
    .post("/get", getInput, (c) => {
      const { key, publisher } = c.req.valid("json");
      return ndjson(async (emit: Emit<DhtEvent>) => {
        const r = await dht().get(key, { onEvent: emit, publisher });
        if (!r)
          throw new IconError("NOT_FOUND", `no value under key "${key}"${publisher ? ` from publisher ${publisher.slice(0, 8)}` : " from this node"}`,
            "Check the key and the publisher (--publisher NODE_ID reads another node's value). A value lives only while its publisher runs and republishes it (1 h after it stops).");
        return { key, ...renderValue(r.value), publisher: r.publisher, seq: r.seq, source: r.source, hops: r.hops, ms: Math.round(r.ms * 10) / 10 };
      });
    })
    .post("/announcements", jsonInput((body) => ({ routerId: keyField(body, "routerId") })), (c) => {
      const { routerId } = c.req.valid("json");
      return ndjson((emit: Emit<DhtEvent>) => dht().findAnnouncements(routerId, { onEvent: emit }));
    });
}
