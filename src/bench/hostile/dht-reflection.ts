/**
 * Finding 12, reflection: the node is made to send datagrams to a victim that never asked for them.
 * - Through NODES replies: a peer the node queries answers with 20 contacts, all at the victim (or in the
 *   victim's private network); the node queries each one, padding each query to the size of the reply it
 *   hopes for and retrying it, so a 560-byte reply turns into tens of kilobytes at the victim.
 * - Through spoofed requests: a request whose source address is the victim's draws the reply, the id
 *   proof pings of an unknown sender, and traceroutes of the "new" address towards the victim.
 */
import { randomId } from "../../dht/id.ts";
import { MsgType, type Endpoint } from "../../dht/codec.ts";
import type { DatagramTransport } from "../../dht/transport/types.ts";
import { generateIdentity } from "../../identity/identity.ts";
import { realWait, type AttackReport, type Wait } from "./dht-attacks.ts";
import { RawDhtPeer } from "./dht-raw-peer.ts";

export interface ReflectionOptions {
  /** A hostile peer the target can reach; it is introduced to the target first. */
  attacker: RawDhtPeer;
  target: Endpoint;
  /** Where the victims listen: everything that reaches them is counted. */
  victims: DatagramTransport[];
  /** Contacts in each NODES reply, spread over the victims. @default 20 */
  contactsPerReply?: number;
  /** Makes the target look something up (its own upkeep does too, only less often). */
  trigger: () => Promise<unknown>;
  /** Time to let retransmissions arrive after the trigger. @default 3000 */
  settleMs?: number;
  wait?: Wait;
}

export async function reflectThroughNodes(o: ReflectionOptions): Promise<AttackReport> {
  const wait = o.wait ?? realWait;
  const hits = { datagrams: 0, bytes: 0 };
  for (const v of o.victims) v.onDatagram((d) => (hits.datagrams++, (hits.bytes += d.length)));
  const n = o.contactsPerReply ?? 20;
  o.attacker.answer = (req, from) => {
    if (req.body.type === MsgType.PING) return { type: MsgType.PONG, observed: from };
    if (req.body.type !== MsgType.FIND_NODE && req.body.type !== MsgType.FIND_VALUE) return undefined;
    return { type: MsgType.NODES, contacts: Array.from({ length: n }, (_, i) => ({ id: randomId(), ...endpointOf(o.victims[i % o.victims.length]!) })) };
  };
  // (Waiting alongside lets virtual time deliver the handshake on the in-memory hub.)
  const [introduced] = await Promise.all([o.attacker.introduce(o.target), wait(0)]);
  const before = o.attacker.sent.bytes;
  await o.trigger();
  await wait(o.settleMs ?? 3000);
  const replyBytes = o.attacker.sent.bytes - before;
  const amplification = replyBytes ? hits.bytes / replyBytes : 0;
  return {
    finding: 12, attack: "dht-reflection-nodes",
    // Contained: the victim got no more than a few times what the attacker sent (the budget for addresses
    // that never answered); anything above is a working amplifier.
    outcome: hits.datagrams === 0 ? "refused" : amplification <= 5 ? "contained" : "succeeded",
    detail: { introduced, replyBytes, victimDatagrams: hits.datagrams, victimBytes: hits.bytes, amplification: Math.round(amplification * 10) / 10 },
  };
}

export interface SpoofOptions {
  target: Endpoint;
  /** The victim's own socket: the requests leave from its address, as spoofed ones would arrive. */
  victim: DatagramTransport;
  count: number;
  /** Whether the target has started probing the victim's address (traces). */
  harvested?: () => boolean;
  settleMs?: number;
  wait?: Wait;
}

export async function spoofedRequests(o: SpoofOptions): Promise<AttackReport> {
  const wait = o.wait ?? realWait;
  const spoofer = new RawDhtPeer(o.victim, generateIdentity());
  spoofer.answer = () => undefined; // the victim never speaks DHT
  // Requests from an id the target has never met: it would like to verify the sender and trace its address.
  for (let i = 0; i < o.count; i++) spoofer.send(o.target, { type: MsgType.FIND_NODE, target: randomId() });
  await wait(o.settleMs ?? 10_000);
  const probes = spoofer.requests.length;
  const harvested = o.harvested?.() ?? false;
  const replies = spoofer.received.datagrams - probes;
  return {
    finding: 12, attack: "dht-spoofed-requests",
    outcome: probes === 0 && !harvested ? (replies === 0 ? "refused" : "contained") : "succeeded",
    detail: { requests: o.count, replies, replyBytes: spoofer.received.bytes, probes, harvested },
  };
}

function endpointOf(t: DatagramTransport): Endpoint {
  return { address: t.address, port: t.port };
}
