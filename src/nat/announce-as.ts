/**
 * Where a node is announced, from its two reachability verdicts (component.ts, reachability.ts):
 * - IPv4 reached: at that address, with the IPv6 address besides when there is one to announce;
 * - IPv4 not reached but IPv6 verified: at the IPv6 address instead (a home behind carrier-grade NAT);
 * - IPv4 unreachable, or a NAT seen while the verdict is unknown: nowhere (held, with the reason);
 * - otherwise undefined: the node announces its own addresses as before.
 * The IPv6 address to announce is the verified one; before any IPv6 verdict the node's own, since IPv6 has
 * no NAT (like an IPv4 node that sees none, it is announced where it is); none once IPv6 dial-backs failed.
 */
import type { AnnounceAs } from "../topology/dht-directory.ts";
import type { Verdict } from "./reachability.ts";

export interface AnnounceInputs {
  v4: Verdict;
  v6: Verdict;
  /** The node's own IPv6 address (bound or learned), if any. */
  own6?: string;
  /** Why the node seems to sit behind a NAT, if anything says so (asked only when it matters). */
  behindNat: () => string | undefined;
  ports: { dhtPort: number; peerPort: number };
}

export function announceFrom(i: AnnounceInputs): AnnounceAs {
  const six = i.v6.address ?? (i.v6.reach === "unknown" ? i.own6 : undefined);
  if (i.v4.address) return { address: i.v4.address, ...(six ? { address6: six } : {}), ...i.ports };
  if (i.v6.address) return { address: i.v6.address, ...i.ports };
  if (i.v4.reach === "unreachable") return { held: `unreachable: ${i.v4.reason}` };
  const nat = i.behindNat();
  return nat ? { held: `${nat}; waiting until peers have dialled it back (${i.v4.reason})` } : undefined;
}
