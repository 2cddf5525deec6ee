/**
 * The yard's local API, mounted at /v1/icons and used by icon run/ps/stop/pause/start/rm/logs. Starting an
 * ICON streams its state events as NDJSON until it is RUNNING or FAILED; logs stream as NDJSON lines.
 */
import { Hono } from "hono";
import { jsonInput, ndjson, ndjsonLine, ndjsonResponse, queryInput, type Emit } from "../api/http.ts";
import { IconError, toIconError } from "../errors.ts";
import type { LogLine } from "../engine/container-engine.ts";
import type { StateEvent } from "./state.ts";
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
function logStream(yard: Yard, name: string, query: { tail?: string; follow?: string }) {
  const tailRaw = query.tail;
  const tail = tailRaw === undefined || tailRaw === "all" ? undefined : Number(tailRaw);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw new IconError("INVALID_INPUT", `tail must be a count (got ${tailRaw})`);
  const ac = new AbortController();
  const lines = yard.logs(name, { tail, follow: query.follow === "1", signal: ac.signal })[Symbol.asyncIterator]();
  let count = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await lines.next();
        if (next.done) {
          controller.enqueue(ndjsonLine({ type: "result", value: { lines: count } }));
          controller.close();
          return;
        }
        count++;
        controller.enqueue(ndjsonLine({ type: "log", ...next.value }));
      } catch (e) {
        controller.enqueue(ndjsonLine({ type: "error", ...toIconError(e).toJSON() }));
        controller.close();
      }
    },
    cancel() {
      ac.abort();
    },
  });
  return ndjsonResponse<{ type: "log" } & LogLine, { lines: number }>(body);
}

function known(y: Yard, name: string) {
  const v = y.get(name);
  if (!v) throw noSuchIcon(name);
  return v;
}

export function yardRoutes(yard: () => Promise<Yard>) {
  return new Hono()
    .get("/", queryInput<{ all?: "1" }>(), async (c) => c.json((await yard()).list(c.req.valid("query").all === "1")))
    .post("/", jsonInput(runRequest), async (c) => {
      const req = c.req.valid("json");
      const y = await yard();
      return ndjson((emit: Emit<StateEvent>) => y.run(req, emit));
    })
    .get("/:name", async (c) => c.json(known(await yard(), c.req.param("name"))))
    .post("/:name/start", async (c) => {
      const y = await yard();
      const name = known(y, c.req.param("name")).name; // NOT_FOUND as an HTTP error, before the stream
      return ndjson((emit: Emit<StateEvent>) => y.start(name, emit));
    })
    .post("/:name/stop", async (c) => c.json(await (await yard()).stop(c.req.param("name"))))
    .post("/:name/pause", async (c) => c.json(await (await yard()).pause(c.req.param("name"))))
    .delete("/:name", queryInput<{ force?: "1" }>(), async (c) => {
      const name = c.req.param("name");
      await (await yard()).remove(name, { force: c.req.valid("query").force === "1" });
      return c.json({ removed: name });
    })
    .get("/:name/logs", queryInput<{ tail?: string; follow?: "1" }>(), async (c) => logStream(await yard(), c.req.param("name"), c.req.valid("query")));
}
