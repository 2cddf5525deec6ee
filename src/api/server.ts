/**
 * The node's local API on the Unix socket `<data-dir>/icon.sock`, mode 0600 so only the node's user can
 * drive it. node/api.ts builds the app; this file owns the socket.
 */
import type { Hono } from "hono";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { SOCKET_NAME } from "./client.ts";

export interface ApiServer {
  readonly socketPath: string;
  stop(): Promise<void>;
}

/**
 * Binds the socket. A socket file already there was left by a node that was killed: IconNode.start()
 * checked that no node answers on it before starting anything.
 */
export async function serveApi(app: Hono<any, any, any>, dataDir: string): Promise<ApiServer> {
  const socketPath = join(dataDir, SOCKET_NAME);
  await rm(socketPath, { force: true });
  // bind(2) makes the socket with the umask's mode: a umask that leaves only the owner's bits gives it
  // 0600 at once, where a chmod afterwards would leave a moment in which anyone could connect. The bind
  // is synchronous, so no other file of this process is made under that umask.
  const umask = process.umask(0o177);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ unix: socketPath, fetch: app.fetch });
  } finally {
    process.umask(umask);
  }
  return {
    socketPath,
    async stop() {
      await server.stop(true);
      await rm(socketPath, { force: true });
    },
  };
}
