/** Peer networks on loopback for tests: each on a free port, stopped together. */
import { generateIdentity, type Identity } from "../../src/identity/identity.ts";
import { silentLogger } from "../../src/log.ts";
import { PeerNetwork, type PeerEndpoint } from "../../src/peer/network.ts";
import type { Clock } from "../../src/util/clock.ts";

export function loopbackNetworks() {
  const nets: PeerNetwork[] = [];
  return {
    /** A started network with a new (or the given) identity, its timeouts on `clock` (default the real one). */
    async network(identity: Identity = generateIdentity(), clock?: Clock): Promise<PeerNetwork> {
      const net = new PeerNetwork({ identity, log: silentLogger, listen: "127.0.0.1", port: 0, advertisedAddress: () => "127.0.0.1", clock });
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
