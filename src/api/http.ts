/**
 * Shared Hono plumbing for the local API and the peer protocol: IconErrors become `{ error, code, fix }`
 * with a matching HTTP status, bodies are size-checked JSON, long work streams NDJSON progress events.
 * Routes declare their input and their stream's types here, so the typed client (api/client.ts) knows
 * what each route takes and gives.
 */
import type { Context, Hono, MiddlewareHandler, TypedResponse } from "hono";
import { HTTP_STATUS, IconError, toIconError } from "../errors.ts";

export function installErrorHandler(app: Hono<any, any, any>, onInternal?: (e: unknown) => void): void {
  app.onError((e, c) => {
    const err = toIconError(e);
    if (err.code === "INTERNAL") onInternal?.(e);
    return c.json(err.toJSON(), HTTP_STATUS[err.code] as never);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}`, code: "NOT_FOUND" }, 404));
}

/** Reads a JSON object body, refusing oversized or malformed input with a clear error. */
export async function jsonBody<T = Record<string, unknown>>(c: Context, maxBytes = 1 << 20): Promise<T> {
  const text = await c.req.text();
  if (text.length > maxBytes) throw new IconError("TOO_LARGE", `request body is ${text.length} bytes; the limit is ${maxBytes}`);
  if (text === "") return {} as T;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new IconError("INVALID_INPUT", `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new IconError("INVALID_INPUT", "request body must be a JSON object");
  return v as T;
}

/**
 * A route's JSON body: read with jsonBody and checked by `parse`, whose result the handler gets from
 * `c.req.valid("json")` and the typed client must send.
 */
export function jsonInput<T extends object>(parse: (body: Record<string, unknown>) => T, maxBytes?: number): MiddlewareHandler<any, string, { in: { json: T }; out: { json: T } }> {
  return async (c, next) => {
    c.req.addValidatedData("json", parse(await jsonBody(c, maxBytes)));
    await next();
  };
}

/**
 * A route's query parameters: the typed client sends Q; the handler gets from `c.req.valid("query")`
 * whatever strings arrived (any of them may be missing or other than Q says) and checks them itself.
 */
export function queryInput<Q extends Record<string, string | undefined>>(): MiddlewareHandler<any, string, { in: { query: Q }; out: { query: { [K in keyof Q]?: string } } }> {
  return async (c, next) => {
    c.req.addValidatedData("query", c.req.query());
    await next();
  };
}

/** What an NDJSON route streams, for the typed client: progress events E, then one result R. */
export interface Ndjson<E, R> {
  event: E;
  result: R;
}
export type NdjsonResponse<E, R> = Response & TypedResponse<Ndjson<E, R>, 200, "ndjson">;
export type Emit<E> = (event: E) => void;

/** Wraps a stream of NDJSON lines (events, then a result or error line) as a typed response. */
export function ndjsonResponse<E, R>(body: ReadableStream<Uint8Array>): NdjsonResponse<E, R> {
  // The types exist only for the client; at run time this is a plain streamed Response.
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } }) as NdjsonResponse<E, R>;
}

/** One NDJSON line. */
export function ndjsonLine(value: object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value) + "\n");
}

/**
 * Streams the events a long operation emits as NDJSON lines, then a final `{type:"result", value}`
 * or `{type:"error", error, code, fix}` line. The client reads them with readStream (api/client.ts).
 */
export function ndjson<E extends object, R>(run: (emit: Emit<E>) => Promise<R>): NdjsonResponse<E, R> {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const emit = (event: object) => {
        try {
          controller.enqueue(ndjsonLine(event));
        } catch {
          // the client went away; the work itself carries on
        }
      };
      try {
        const value = await run(emit);
        emit({ type: "result", value });
      } catch (e) {
        emit({ type: "error", ...toIconError(e).toJSON() });
      }
      try {
        controller.close();
      } catch {}
    },
  });
  return ndjsonResponse<E, R>(body);
}
