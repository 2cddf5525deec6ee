/**
 * A replica must listen on its own node's address (finding 4). The source sends the ICON's clients, and
 * their state, wherever the target says its replica runs; a target naming another host (or a node that
 * announced someone else's address) would send them there. The address to hold it to is the one the
 * source reached the node at: the address it announced, where it answered the authenticated handshake.
 */
import type { Endpoint } from "../dht/codec.ts";
import { IconError } from "../errors.ts";

export function onNodeAddress(endpoint: Endpoint | undefined, nodeAddress: string | undefined): endpoint is Endpoint {
  return endpoint !== undefined && endpoint.address === nodeAddress;
}

/** The replicate answer's endpoint, or UNAUTHORIZED when it is not on the node's address. */
export function checkReplicaEndpoint(endpoint: Endpoint | undefined, nodeAddress: string, nodeId: string): Endpoint {
  if (!onNodeAddress(endpoint, nodeAddress))
    throw new IconError("UNAUTHORIZED", `node ${nodeId.slice(0, 8)} named a replica endpoint ${JSON.stringify(endpoint)}, not on its own address ${nodeAddress}`,
      "Nothing to do here: the replica is not used and the client stays. If that node is yours, check its --advertise address.");
  return endpoint;
}
