/**
 * The DHT's local API routes (/v1/dht/*), used by `icon dht put|get|peers`. Long operations stream their
 * progress events as NDJSON (api/http.ts), then the result or a typed error.
 */
import type { Hono } from "hono";
import { jsonBody, ndjson } from "../api/http.ts";
import { IconError } from "../errors.ts";
import type { Dht } from "./dht.ts";

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

export function dhtRoutes(app: Hono, dht: () => Dht): void {
  app.get("/v1/dht/peers", (c) => c.json(dht().peers()));

  app.post("/v1/dht/put", async (c) => {
    const body = await jsonBody(c);
    const key = keyField(body);
    if (typeof body.value !== "string") throw new IconError("INVALID_INPUT", '"value" must be a string');
    const value = body.value;
    return ndjson(async (emit) => {
      const r = await dht().put(key, value, { onEvent: emit });
      if (!r.ok)
        throw new IconError("FAILED", `the value reached only ${r.replicas} of the ${r.targets} closest nodes`,
          "Check that the node has peers (icon dht peers) and that they are reachable, then put it again.");
      return r;
    });
  });

  app.post("/v1/dht/get", async (c) => {
    const key = keyField(await jsonBody(c));
    return ndjson(async (emit) => {
      const r = await dht().get(key, { onEvent: emit });
      if (!r)
        throw new IconError("NOT_FOUND", `no value under key "${key}"`,
          "Check the key. A value lives only while its publisher runs and republishes it (1 h after it stops).");
      return { key, ...renderValue(r.value), publisher: r.publisher, seq: r.seq, source: r.source, hops: r.hops, ms: Math.round(r.ms * 10) / 10 };
    });
  });

  app.post("/v1/dht/announcements", async (c) => {
    const routerId = keyField(await jsonBody(c), "routerId");
    return ndjson((emit) => dht().findAnnouncements(routerId, { onEvent: emit }));
  });
}
