/**
 * Shared Hono plumbing for the local API and the peer protocol: IconErrors become `{ error, code, fix }`
 * with a matching HTTP status, bodies are size-checked JSON, long work streams NDJSON progress events.
 */
import type { Context, Hono } from "hono";
import { HTTP_STATUS, IconError, toIconError } from "../errors.ts";

export function installErrorHandler(app: Hono, onInternal?: (e: unknown) => void): void {
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
 * Streams the events a long operation yields as NDJSON lines, then a final `{type:"result", value}`
 * or `{type:"error", error, code, fix}` line. The client reads them with ApiClient.stream.
 */
export function ndjson(run: (emit: (event: object) => void) => Promise<unknown>): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const emit = (event: object) => {
        try {
          controller.enqueue(enc.encode(JSON.stringify(event) + "\n"));
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
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}
