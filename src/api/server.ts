/**
 * The node's local API: a Hono app on the Unix socket `<data-dir>/icon.sock`, mode 0600 so only the
 * node's user can drive it. Components mount their own routes; this file owns the socket.
 */
import { Hono } from "hono";
import { existsSync } from "node:fs";
import { chmod, rm } from "node:fs/promises";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import { ApiClient, SOCKET_NAME } from "./client.ts";
import { installErrorHandler } from "./http.ts";

export function createApiApp(opts: { log: Logger; components: NodeComponent[]; status: () => Record<string, unknown> }): Hono {
  const app = new Hono();
  installErrorHandler(app, (e) => opts.log.error("local API request failed", { error: e as Error }));
  app.get("/v1/status", (c) => c.json(opts.status()));
  for (const comp of opts.components) comp.routes?.(app);
  return app;
}

export interface ApiServer {
  readonly socketPath: string;
  stop(): Promise<void>;
}

/** Binds the socket, refusing to take it over from a node that still answers on it. */
export async function serveApi(app: Hono, dataDir: string): Promise<ApiServer> {
  const socketPath = join(dataDir, SOCKET_NAME);
  // existsSync, not Bun.file().exists(): the latter is false for a socket, so a killed node's stale
  // socket was never removed and the restart failed with EADDRINUSE.
  if (existsSync(socketPath)) {
    const alive = await new ApiClient(dataDir).get("/v1/status").then(() => true, () => false);
    if (alive)
      throw new IconError("CONFLICT", `a node is already running with data dir ${dataDir}`,
        "Stop it first, or start this node with another --data-dir.");
    await rm(socketPath, { force: true }); // left behind by a node that was killed
  }
  const server = Bun.serve({ unix: socketPath, fetch: app.fetch });
  await chmod(socketPath, 0o600);
  return {
    socketPath,
    async stop() {
      await server.stop(true);
      await rm(socketPath, { force: true });
    },
  };
}
