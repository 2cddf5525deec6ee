/**
 * The dashboard's listeners: TCP on dashboardListen, and always a Unix socket `<data-dir>/dashboard.sock`
 * (0600) that crosses network namespaces: `icon demo` relays the host's 127.0.0.1 to it for a node
 * that runs inside the testbed. Open websockets get the whole snapshot at once and again, debounced,
 * after every change the node reports, and every few seconds for the counters.
 */
import type { ServerWebSocket } from "bun";
import { chmod, rm } from "node:fs/promises";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { dashboardApp, type DashboardDeps, type DashboardMessage } from "./app.ts";
import type { Snapshot } from "./snapshot.ts";
import { TOKEN_FILE, isLoopback, newToken } from "./token.ts";

export const DASHBOARD_SOCKET = "dashboard.sock";
/** Changes closer together than this go out as one snapshot. */
const DEBOUNCE_MS = 200;

export interface DashboardOptions {
  /** IPv4:PORT (port 0: a free one). */
  listen: string;
  dataDir: string;
  snapshot: () => Promise<Snapshot>;
  metrics: DashboardDeps["metrics"];
  log: Logger;
  /** How often open pages get a fresh snapshot without a change (uptime, counters). @default 2000 */
  refreshMs?: number;
}

export interface DashboardServer {
  /** http://HOST:PORT/ as bound (without the token). */
  readonly url: string;
  readonly socketPath: string;
  readonly token?: string;
  /** Open websockets. */
  readonly viewers: number;
  /** Something changed: open pages get a new snapshot soon. */
  changed(): void;
  stop(): Promise<void>;
}

export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(":");
  return { host: listen.slice(0, i), port: Number(listen.slice(i + 1)) };
}

export async function serveDashboard(o: DashboardOptions): Promise<DashboardServer> {
  const { host, port } = splitListen(o.listen);
  const token = isLoopback(host) ? undefined : await newToken(o.dataDir);
  if (!token) await rm(join(o.dataDir, TOKEN_FILE), { force: true });
  const viewers = new Set<ServerWebSocket<unknown>>();
  const message = async () => JSON.stringify({ type: "snapshot", snapshot: await o.snapshot() } satisfies DashboardMessage);
  const onInternal = (e: unknown) => o.log.error("dashboard request failed", { error: e as Error });
  const websocket = {
    open(ws: ServerWebSocket<unknown>) {
      viewers.add(ws);
      void message().then((text) => ws.send(text), (e) => o.log.warn("dashboard snapshot failed", { error: e as Error }));
    },
    message() {}, // read-only: pages send nothing
    close(ws: ServerWebSocket<unknown>) {
      viewers.delete(ws);
    },
  };
  const serveWith = (app: ReturnType<typeof dashboardApp>) => (req: Request, server: Bun.Server<unknown>) => app.fetch(req, { server });
  let tcp: Bun.Server<unknown>;
  try {
    tcp = Bun.serve({ hostname: host, port, fetch: serveWith(dashboardApp({ snapshot: o.snapshot, metrics: o.metrics, token, onInternal })), websocket });
  } catch (e) {
    throw new IconError("CONFLICT", `the dashboard cannot listen on ${o.listen}: ${(e as Error).message}`, "Choose another dashboardListen (--dashboard IP:PORT), or 127.0.0.1:0 for a free port.", { cause: e });
  }
  // The socket is the node user's own (0600): like the local API, it needs no token.
  const socketPath = join(o.dataDir, DASHBOARD_SOCKET);
  await rm(socketPath, { force: true });
  const unix = Bun.serve({ unix: socketPath, fetch: serveWith(dashboardApp({ snapshot: o.snapshot, metrics: o.metrics, onInternal })), websocket });
  await chmod(socketPath, 0o600);

  let pending: ReturnType<typeof setTimeout> | undefined;
  const push = () => {
    pending = undefined;
    if (!viewers.size) return;
    void message().then((text) => {
      for (const ws of viewers) ws.send(text);
    }, (e) => o.log.warn("dashboard snapshot failed", { error: e as Error }));
  };
  const refresh = setInterval(push, o.refreshMs ?? 2000);
  refresh.unref?.();
  return {
    url: `http://${host}:${tcp.port}/`,
    socketPath,
    token,
    get viewers() {
      return viewers.size;
    },
    changed() {
      pending ??= setTimeout(push, DEBOUNCE_MS);
    },
    async stop() {
      clearInterval(refresh);
      clearTimeout(pending);
      for (const ws of viewers) ws.close(1001, "node stopping");
      await Promise.all([tcp.stop(true), unix.stop(true)]);
      await rm(socketPath, { force: true });
    },
  };
}
