/** Peer networks on loopback for tests: each on a free port, stopped together. */
import { generateIdentity, type Identity } from "../../src/identity/identity.ts";
import { silentLogger } from "../../src/log.ts";
import type { PeerConnection } from "../../src/peer/connection.ts";
import { PeerNetwork, type PeerEndpoint, type PeerNetworkInit } from "../../src/peer/network.ts";
import type { Clock } from "../../src/util/clock.ts";

export function loopbackNetworks() {
  const nets: PeerNetwork[] = [];
  return {
    /** A started network with a new (or the given) identity, its timeouts on `clock` (default the real one). */
    async network(identity: Identity = generateIdentity(), clock?: Clock, more: Partial<PeerNetworkInit> = {}): Promise<PeerNetwork> {
      const net = new PeerNetwork({ identity, log: silentLogger, listen: "127.0.0.1", port: 0, advertisedAddress: () => "127.0.0.1", clock, ...more });
      await net.start();
      nets.push(net);
      return net;
    },
    /** Stops every network made so far. */
    async stopAll(): Promise<void> {
      await Promise.all(nets.splice(0).map((n) => n.stop()));
    },
  };
}

/** Where to dial a loopback network. */
export const endpointOf = (n: PeerNetwork): PeerEndpoint => ({ nodeId: n.nodeId, address: "127.0.0.1", port: n.port });

/**
 * The connection `n` holds to `nodeId`, once it has one. The dialling side's connect resolves when it has
 * sent its last handshake message; the accepting side registers the connection when that arrives.
 */
export async function connectionAt(n: PeerNetwork, nodeId: string, timeoutMs = 2000): Promise<PeerConnection> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await Bun.sleep(1)) {
    const c = n.connection(nodeId);
    if (c) return c;
  }
  throw new Error(`no connection from ${nodeId.slice(0, 8)} at ${n.nodeId.slice(0, 8)} within ${timeoutMs} ms`);
}
