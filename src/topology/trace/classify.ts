/**
 * What an ICMP error says about a probe (RFC 792; thesis 3.1.1): time exceeded comes from a router on
 * the path, port unreachable from the destination itself, any other unreachable from a router that
 * cannot forward it (the path ends there). Errors the host made up itself (origin LOCAL) say nothing.
 */
import type { Answer } from "./trace-state.ts";
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, ICMP_TIME_EXCEEDED, SO_EE_ORIGIN_ICMP, type ExtendedError } from "./wire.ts";

/** Code 0 of time exceeded: TTL reached zero in transit (code 1, reassembly timeout, is not an answer). */
const TTL_EXCEEDED_IN_TRANSIT = 0;

export function classify(err: ExtendedError | undefined, destination: string): Pick<Answer, "kind" | "address"> | undefined {
  if (!err || err.origin !== SO_EE_ORIGIN_ICMP || err.offender === undefined) return undefined;
  const address = err.offender;
  if (err.type === ICMP_TIME_EXCEEDED) return err.code === TTL_EXCEEDED_IN_TRANSIT ? { kind: "router", address } : undefined;
  if (err.type === ICMP_DEST_UNREACH) {
    if (err.code === ICMP_PORT_UNREACH || address === destination) return { kind: "destination", address };
    return { kind: "unreachable", address };
  }
  return undefined;
}
