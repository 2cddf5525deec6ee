/**
 * What an ICMP error says about a probe (RFC 792, RFC 4443 for ICMPv6; thesis 3.1.1): time exceeded comes
 * from a router on the path, port unreachable from the destination itself, any other unreachable from a
 * router that cannot forward it (the path ends there). Errors the host made up itself (origin LOCAL) say
 * nothing.
 */
import type { Answer } from "./trace-state.ts";
import {
  ICMP6_DST_UNREACH, ICMP6_PORT_UNREACH, ICMP6_TIME_EXCEEDED, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, ICMP_TIME_EXCEEDED,
  SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6, type ExtendedError,
} from "./wire.ts";

/** Code 0 of time exceeded, in both ICMP versions: TTL (hop limit) reached zero in transit (code 1,
 *  reassembly timeout, is not an answer). */
const TTL_EXCEEDED_IN_TRANSIT = 0;

const CODES = {
  [SO_EE_ORIGIN_ICMP]: { exceeded: ICMP_TIME_EXCEEDED, unreachable: ICMP_DEST_UNREACH, port: ICMP_PORT_UNREACH },
  [SO_EE_ORIGIN_ICMP6]: { exceeded: ICMP6_TIME_EXCEEDED, unreachable: ICMP6_DST_UNREACH, port: ICMP6_PORT_UNREACH },
} as Record<number, { exceeded: number; unreachable: number; port: number } | undefined>;

/** `destination` as the offender would be printed (IPv6 canonical). */
export function classify(err: ExtendedError | undefined, destination: string): Pick<Answer, "kind" | "address"> | undefined {
  const codes = err && CODES[err.origin];
  if (!codes || err.offender === undefined) return undefined;
  const address = err.offender;
  if (err.type === codes.exceeded) return err.code === TTL_EXCEEDED_IN_TRANSIT ? { kind: "router", address } : undefined;
  if (err.type === codes.unreachable) {
    if (err.code === codes.port || address === destination) return { kind: "destination", address };
    return { kind: "unreachable", address };
  }
  return undefined;
}
