/**
 * The CLI's and the lab's side of the local API: Hono's typed client (hc) built from the node's app type
 * (NodeApi, node/api.ts), speaking HTTP over the node's Unix socket `<data-dir>/icon.sock`. A missing
 * socket or a refused connection means no node runs there, and the error says how to start one.
 */
import { join } from "node:path";
import { homedir } from "node:os";
import { hc, type ClientResponse } from "hono/client";
import { IconError, fromErrorBody } from "../errors.ts";
import { envName } from "../config/schema.ts";
import type { NodeApi } from "../node/api.ts";
import { lines } from "../util/lines.ts";
import type { Ndjson } from "./http.ts";

export const SOCKET_NAME = "icon.sock";

export function defaultDataDir(flag?: string): string {
  return flag ?? process.env[envName("dataDir")] ?? join(homedir(), ".icon");
}

export type NodeClient = ReturnType<typeof hc<NodeApi>>;

/** The typed client of the node that runs with this data dir. */
export function nodeClient(dataDir: string): NodeClient {
  const socketPath = join(dataDir, SOCKET_NAME);
  const overSocket = (input: string | URL | Request, init?: RequestInit) =>
    fetch(input, { ...init, unix: socketPath }).catch((e) => {
      // A cancelled stream stays a cancel; any other failure to reach the socket (ENOENT, refused,
      // FailedToOpenSocket) means no node answers there.
      if ((e as Error).name === "AbortError") throw e;
      throw new IconError("NOT_RUNNING", `no node is running with data dir ${dataDir} (socket ${socketPath})`,
        `Start one with "icon node start --data-dir ${dataDir}", or pass the --data-dir of a running node.`, { cause: e });
    });
  return hc<NodeApi>("http://icon", { fetch: overSocket });
}

/** The client of the node a command's --data-dir (or $ICON_DATA_DIR, or ~/.icon) names. */
export function clientFor(values: { "data-dir"?: string }): NodeClient {
  return nodeClient(defaultDataDir(values["data-dir"]));
}

/** An ICON's name as a path parameter (hc puts parameters into the path as they are). */
export function nameParam(name: string): { name: string } {
  if (!name) throw new IconError("USAGE", "the ICON name is empty", 'See "icon ps --all" for the names.');
  return { name: encodeURIComponent(name) };
}

/** Whether a node answers on this data dir's socket. */
export function nodeAnswers(dataDir: string): Promise<boolean> {
  return answer(nodeClient(dataDir).v1.status.$get()).then(() => true, () => false);
}

function where(res: { url: string }): string {
  return res.url ? new URL(res.url).pathname : "a request";
}

/** A JSON route's answer, or the node's error (`{ error, code, fix }`) as an IconError. */
export async function answer<T>(call: Promise<ClientResponse<T, number, "json">>): Promise<T> {
  const res = await call;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new IconError("INTERNAL", `the node answered ${where(res)} with non-JSON (HTTP ${res.status})`);
  }
  if (!res.ok) throw fromErrorBody(parsed, `the node answered ${where(res)} with HTTP ${res.status}`);
  return parsed as T;
}

/**
 * Reads an NDJSON route (api/http.ts ndjson): calls onEvent for each progress event and resolves with
 * the final result, or throws the final error.
 */
export async function readStream<E, R>(call: Promise<ClientResponse<Ndjson<E, R>, number, "ndjson">>, onEvent: (e: E) => void = () => {}): Promise<R> {
  const res = await call;
  if (!res.ok || !res.body) {
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {}
    throw fromErrorBody(parsed, `the node answered ${where(res)} with HTTP ${res.status}`);
  }
  type Line = { type: "result"; value: R } | { type: "error"; error: string; code?: string; fix?: string };
  let final: Line | undefined;
  for await (const line of lines(res.body)) {
    if (!line) continue;
    const ev = JSON.parse(line) as Line | E;
    const type = (ev as { type?: unknown }).type;
    if (type === "result" || type === "error") final = ev as Line;
    else onEvent(ev as E);
  }
  if (!final) throw new IconError("UNREACHABLE", `the node closed ${where(res)} before it finished`, "Check the node's log; it may have stopped.");
  if (final.type === "error") throw fromErrorBody(final, "operation failed");
  return final.value;
}
