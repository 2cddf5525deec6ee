/**
 * Dial-back over the peer protocol (issue 14; libp2p's AutoNAT): a node asks a peer it is connected to
 * to open its DHT and peer ports from the outside, and the peer reports what answered.
 *
 * The verifier is no reflector (threat-model.md "Not a reflector"): it dials only the address the request
 * came from (the TCP connection's, which cannot be spoofed, never an address the requester names), on
 * the ports the requester names, and only a few times: one dial-back per requesting /24 (IPv6: /48) every 10 s
 * (burst 3), 5 a second in all. Each dial proves the node: the DHT port must answer a PING from a fresh
 * socket with a proof of the requester's id (udp-dialback.ts), the peer port must finish a Noise handshake
 * as the requester's node (a probe that ends there).
 */
import { IconError } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import { TokenBuckets } from "../dht/rate-limit.ts";
import { fromHex } from "../dht/id.ts";
import type { PeerConnection, RequestContext } from "../peer/connection.ts";
import type { PeerNetwork } from "../peer/network.ts";
import { familyOf, sybilNet } from "../util/ipv6.ts";
import { realClock, type Clock } from "../util/clock.ts";
import type { DialbackReport } from "./reachability.ts";
import { udpDialback } from "./udp-dialback.ts";

export const OP_DIALBACK = "nat.dialback";

export interface DialbackRequest {
  /** The ports to try at the address the verifier sees the request come from (the mapped ones, outside). */
  dhtPort: number;
  peerPort: number;
}

const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) > 0 && (p as number) < 65536;

export class DialbackVerifier {
  private readonly perNet: TokenBuckets;
  private readonly all: TokenBuckets;
  /** Dial-backs refused by the rate limits. */
  refused = 0;
  served = 0;

  /** `bind`: the local address a dial-back's fresh UDP socket binds, per family. */
  constructor(private readonly d: { identity: Identity; network: PeerNetwork; bind: (family: 4 | 6) => string; clock?: Clock }) {
    const clock = d.clock ?? realClock;
    this.perNet = new TokenBuckets(clock, 0.1, 3);
    this.all = new TokenBuckets(clock, 5, 10, 1);
  }

  handle = async (body: unknown, ctx: RequestContext): Promise<DialbackReport> => {
    const b = body as Partial<DialbackRequest> | null;
    if (!isPort(b?.dhtPort) || !isPort(b?.peerPort)) throw new IconError("INVALID_INPUT", "a dial-back names a dhtPort and a peerPort (1-65535)");
    const observed = ctx.peer.remoteIp;
    if (!this.perNet.take(sybilNet(observed)) || !this.all.take("all")) {
      this.refused++;
      throw new IconError("RATE_LIMITED", "too many dial-backs from your network", "Ask again in a minute.");
    }
    this.served++;
    const [dht, peer] = await Promise.all([
      udpDialback({ identity: this.d.identity, bind: this.d.bind(familyOf(observed) === 6 ? 6 : 4), address: observed, port: b.dhtPort, nodeId: fromHex(ctx.peer.nodeId) }),
      this.d.network.probe({ nodeId: ctx.peer.nodeId, address: observed, port: b.peerPort }),
    ]);
    return { observed, dht, peer };
  };
}

/** Asks the peer on `conn` to dial this node back; the report, or undefined when it would not. */
export async function askDialback(conn: PeerConnection, ports: DialbackRequest): Promise<DialbackReport | undefined> {
  try {
    const r = await conn.request<DialbackReport>(OP_DIALBACK, ports, { timeoutMs: 15_000 });
    return typeof r?.observed === "string" && typeof r.dht === "boolean" && typeof r.peer === "boolean" ? { observed: r.observed, dht: r.dht, peer: r.peer } : undefined;
  } catch {
    return undefined;
  }
}
