/**
 * A replica must listen on its own node's address (finding 4). The source sends the ICON's clients, and
 * their state, wherever the target says its replica runs; a target naming another host (or a node that
 * announced someone else's address) would send them there. The addresses to hold it to are those the
 * source reached the node at: where it answered the authenticated handshake (a dual-stack node may be
 * reached over IPv4 and over IPv6, and run a replica for IPv6 clients on its IPv6 address).
 */
import type { Endpoint } from "../dht/codec.ts";
import { IconError } from "../errors.ts";
import { canonicalIPv6 } from "../util/ipv6.ts";

export function onNodeAddress(endpoint: Endpoint | undefined, nodeAddresses: (string | undefined)[]): endpoint is Endpoint {
  const text = (a: string) => canonicalIPv6(a) ?? a; // one IPv6 address, one string
  return endpoint !== undefined && nodeAddresses.some((a) => a !== undefined && text(a) === text(endpoint.address));
}

/** The replicate answer's endpoint, or UNAUTHORIZED when it is not on an address of the node's. */
export function checkReplicaEndpoint(endpoint: Endpoint | undefined, nodeAddresses: string[], nodeId: string): Endpoint {
  if (!onNodeAddress(endpoint, nodeAddresses))
    throw new IconError("UNAUTHORIZED", `node ${nodeId.slice(0, 8)} named a replica endpoint ${JSON.stringify(endpoint)}, not on its own address ${nodeAddresses.join(" or ")}`,
      "Nothing to do here: the replica is not used and the client stays. If that node is yours, check its --advertise address.");
  return endpoint;
}
