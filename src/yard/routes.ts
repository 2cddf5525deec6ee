/**
 * The yard's local API (under /v1/icons), used by icon run/ps/stop/start/rm/logs. Starting an ICON
 * streams its state events as NDJSON until it is RUNNING or FAILED; logs stream as NDJSON lines.
 */
import type { Context, Hono } from "hono";
import { jsonBody, ndjson } from "../api/http.ts";
import { IconError, toIconError } from "../errors.ts";
import type { RunRequest } from "./types.ts";
import { noSuchIcon, type Yard } from "./yard.ts";

function field<T>(body: Record<string, unknown>, key: string, type: "string" | "number" | "object", check?: (v: T) => boolean): T | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type || (type === "object" && Array.isArray(v)) || (check && !check(v as T)))
    throw new IconError("INVALID_INPUT", `field "${key}" has a wrong value (${JSON.stringify(v)})`);
  return v as T;
}

/** A run request from an API body, every field type-checked (the yard checks their meaning). */
export function runRequest(body: Record<string, unknown>): RunRequest {
  const int = (n: number) => Number.isInteger(n);
  return {
    image: field<string>(body, "image", "string") ?? "",
    name: field<string>(body, "name", "string"),
    port: field<number>(body, "port", "number", int),
    env: field<Record<string, string>>(body, "env", "object", (e) => Object.values(e).every((x) => typeof x === "string")),
    memory: field<string>(body, "memory", "string"),
    cpus: field<number>(body, "cpus", "number"),
    pids: field<number>(body, "pids", "number", int),
    user: field<string>(body, "user", "string"),
    readyTimeoutSec: field<number>(body, "readyTimeoutSec", "number", (n) => int(n) && n > 0),
  };
}

/** Streams a container's log lines; stops reading Docker when the client goes away. */
function logStream(yard: Yard, c: Context): Response {
  const name = c.req.param("name")!;
  const tailRaw = c.req.query("tail");
  const tail = tailRaw === undefined || tailRaw === "all" ? undefined : Number(tailRaw);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw new IconError("INVALID_INPUT", `tail must be a count (got ${tailRaw})`);
  const follow = c.req.query("follow") === "1";
  const ac = new AbortController();
  const lines = yard.logs(name, { tail, follow, signal: ac.signal })[Symbol.asyncIterator]();
  const enc = new TextEncoder();
  let count = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await lines.next();
        if (next.done) {
          controller.enqueue(enc.encode(JSON.stringify({ type: "result", value: { lines: count } }) + "\n"));
          controller.close();
          return;
        }
        count++;
        controller.enqueue(enc.encode(JSON.stringify({ type: "log", ...next.value }) + "\n"));
      } catch (e) {
        controller.enqueue(enc.encode(JSON.stringify({ type: "error", ...toIconError(e).toJSON() }) + "\n"));
        controller.close();
      }
    },
    cancel() {
      ac.abort();
    },
  });
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}

function known(y: Yard, name: string) {
  const v = y.get(name);
  if (!v) throw noSuchIcon(name);
  return v;
}

export function mountYardRoutes(app: Hono, yard: () => Promise<Yard>): void {
  app.get("/v1/icons", async (c) => c.json((await yard()).list(c.req.query("all") === "1")));
  app.post("/v1/icons", async (c) => {
    const req = runRequest(await jsonBody(c));
    const y = await yard();
    return ndjson((emit) => y.run(req, emit));
  });
  app.get("/v1/icons/:name", async (c) => c.json(known(await yard(), c.req.param("name"))));
  app.post("/v1/icons/:name/start", async (c) => {
    const y = await yard();
    const name = known(y, c.req.param("name")).name; // NOT_FOUND as an HTTP error, before the stream
    return ndjson((emit) => y.start(name, emit));
  });
  app.post("/v1/icons/:name/stop", async (c) => c.json(await (await yard()).stop(c.req.param("name"))));
  app.delete("/v1/icons/:name", async (c) => {
    await (await yard()).remove(c.req.param("name"), { force: c.req.query("force") === "1" });
    return c.json({ removed: c.req.param("name") });
  });
  app.get("/v1/icons/:name/logs", async (c) => logStream(await yard(), c));
}
