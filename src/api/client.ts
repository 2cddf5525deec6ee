/**
 * The CLI's side of the local API: HTTP over the node's Unix socket `<data-dir>/icon.sock`.
 * A missing socket or a refused connection means no node runs there, and the error says how to start one.
 */
import { join } from "node:path";
import { homedir } from "node:os";
import { IconError, fromErrorBody } from "../errors.ts";
import { envName } from "../config/schema.ts";
import { lines } from "../util/lines.ts";

export const SOCKET_NAME = "icon.sock";

export function defaultDataDir(flag?: string): string {
  return flag ?? process.env[envName("dataDir")] ?? join(homedir(), ".icon");
}

export class ApiClient {
  readonly socketPath: string;
  constructor(readonly dataDir: string) {
    this.socketPath = join(dataDir, SOCKET_NAME);
  }

  private notRunning(cause?: unknown): IconError {
    return new IconError(
      "NOT_RUNNING",
      `no node is running with data dir ${this.dataDir} (socket ${this.socketPath})`,
      `Start one with "icon node start --data-dir ${this.dataDir}", or pass the --data-dir of a running node.`,
      { cause },
    );
  }

  private async send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(`http://icon${path}`, {
        method,
        unix: this.socketPath,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (e) {
      // A cancelled stream stays a cancel; any other failure to reach the socket (ENOENT, refused,
      // FailedToOpenSocket) means no node answers there.
      if ((e as Error).name === "AbortError") throw e;
      throw this.notRunning(e);
    }
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new IconError("INTERNAL", `the node answered ${method} ${path} with non-JSON (HTTP ${res.status})`);
    }
    if (!res.ok) throw fromErrorBody(parsed, `the node answered ${method} ${path} with HTTP ${res.status}`);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body ?? {});
  }

  /**
   * Reads an NDJSON stream (see api/http.ts ndjson): calls onEvent for each progress event and
   * resolves with the final result, or throws the final error.
   */
  async stream<T>(method: string, path: string, body: unknown, onEvent: (e: { type: string; [k: string]: unknown }) => void, signal?: AbortSignal): Promise<T> {
    const res = await this.send(method, path, body, signal);
    if (!res.ok || !res.body) {
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {}
      throw fromErrorBody(parsed, `the node answered ${method} ${path} with HTTP ${res.status}`);
    }
    let final: { type: string; [k: string]: unknown } | undefined;
    for await (const line of lines(res.body)) {
      if (!line) continue;
      const ev = JSON.parse(line) as { type: string; [k: string]: unknown };
      if (ev.type === "result" || ev.type === "error") final = ev;
      else onEvent(ev);
    }
    if (!final) throw new IconError("UNREACHABLE", `the node closed ${path} before it finished`, "Check the node's log; it may have stopped.");
    if (final.type === "error") throw fromErrorBody(final, "operation failed");
    return final.value as T;
  }
}

export function clientFor(values: Record<string, unknown>): ApiClient {
  return new ApiClient(defaultDataDir(values["data-dir"] as string | undefined));
}
