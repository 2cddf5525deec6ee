/**
 * A TCP relay from this namespace's loopback to a dashboard's Unix socket. A node inside a testbed
 * namespace listens on that namespace's 127.0.0.1, which the host's browser cannot reach, and a process
 * in the host cannot connect into it; a Unix socket in the node's data dir crosses namespaces, so
 * `icon demo` relays the host's 127.0.0.1:PORT to it, bytes both ways (websocket upgrades included).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { IconError } from "../errors.ts";

export interface Relay {
  readonly port: number;
  stop(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Listens on host:port (0: a free port) and relays every connection to `socketPath`. */
export async function relayToSocket(o: { host: string; port: number; socketPath: string }): Promise<Relay> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(o.socketPath);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side failing ends both.
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  try {
    await listen(server, o.host, o.port);
  } catch (e) {
    throw new IconError("CONFLICT", `cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`, "Choose another port (0: a free one).", { cause: e });
  }
  return {
    port: (server.address() as { port: number }).port,
    stop: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
