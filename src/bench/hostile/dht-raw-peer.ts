/**
 * A hostile DHT peer: it speaks the wire format with the project's own codec and proofs, over any datagram
 * transport (a real UDP socket, or an endpoint of the in-memory hub, where it may also send from an address
 * that is not its own), and does what an honest node would not: answers with the contacts it likes, claims
 * the external address it likes, replays and floods. The attacks in this folder are built from it.
 */
import { randomBytes } from "node:crypto";
import { generateIdentity, type Identity } from "../../identity/identity.ts";
import { decode, encode, Flag, MsgType, StoreStatus, zeroToken, type Body, type Endpoint, type Packet, type Proof } from "../../dht/codec.ts";
import type { Id } from "../../dht/id.ts";
import { makeProof, makeRequestProof } from "../../dht/proof.ts";
import { requestPadding } from "../../dht/rpc.ts";
import type { DatagramTransport } from "../../dht/transport/types.ts";
import { UdpTransport } from "../../dht/transport/udp.ts";
import { toHex } from "../../util/hex.ts";

export interface SendOptions {
  flags?: number;
  /** The token to echo; by default the last one this target gave us. */
  token?: Uint8Array;
  proof?: Proof;
  /** Sign a request proof for this receiver (the target's id must be known: ask() learns it). */
  prove?: boolean;
  /** Speak as another identity (its id as sender, its key for the proof). */
  as?: Identity;
  sender?: Id;
  padTo?: number;
}

/** What the peer answers to a request it receives; undefined answers nothing. */
export type Answerer = (req: Packet, from: Endpoint) => Body | undefined;

export class RawDhtPeer {
  /** Datagrams and bytes this peer received and sent. */
  received = { datagrams: 0, bytes: 0 };
  sent = { datagrams: 0, bytes: 0 };
  /** Requests this peer received, as decoded and as sent (the latest 10,000). */
  readonly requests: { packet: Packet; from: Endpoint; bytes: Uint8Array }[] = [];
  private readonly tokens = new Map<string, Uint8Array>();
  private readonly ids = new Map<string, Id>();
  private readonly waiting = new Map<string, (p: Packet) => void>();
  /** The observed address PONGs claim; by default the requester's real one. */
  claim?: Endpoint;
  /** The token replies carry, and their flags (WANT_PROOF: an honest node then proves its id to this peer at once). */
  replyToken?: Uint8Array;
  replyFlags = 0;
  answer: Answerer = (req, from) => defaultAnswer(req, from, this.claim);

  constructor(readonly transport: DatagramTransport, readonly identity: Identity = generateIdentity()) {
    transport.onDatagram((data, address, port) => this.receive(data, { address, port }));
  }

  static async udp(address = "127.0.0.1", identity?: Identity): Promise<RawDhtPeer> {
    return new RawDhtPeer(await UdpTransport.open(address, 0), identity);
  }

  get endpoint(): Endpoint {
    return { address: this.transport.address, port: this.transport.port };
  }

  /** The node id last seen answering at an endpoint. */
  idAt(to: Endpoint): Id | undefined {
    return this.ids.get(key(to));
  }

  /** Sends one request; returns its bytes. */
  send(to: Endpoint, body: Body, o: SendOptions = {}): Uint8Array {
    const rid = new Uint8Array(randomBytes(8));
    const token = o.token ?? this.tokens.get(key(to)) ?? zeroToken();
    const receiver = this.ids.get(key(to));
    const me = o.as ?? this.identity;
    const proof = o.proof ?? (o.prove && receiver ? makeRequestProof(me, rid, receiver, token) : undefined);
    // Without a token, pad as an honest node does, so that the reply may be as large as a NODES list.
    const padTo = o.padTo ?? (token.some((b) => b !== 0) ? undefined : requestPadding(body, ((o.flags ?? 0) & Flag.WANT_PROOF) !== 0));
    const bytes = encode({ flags: o.flags ?? 0, rid, sender: o.sender ?? me.nodeId, token, proof, body, padTo });
    this.sendRaw(bytes, to);
    return bytes;
  }

  sendRaw(bytes: Uint8Array, to: Endpoint): void {
    this.sent.datagrams++;
    this.sent.bytes += bytes.length;
    this.transport.send(bytes, to.address, to.port);
  }

  /** Sends a request and waits for its reply (undefined after `timeoutMs`); remembers the token and id. */
  ask(to: Endpoint, body: Body, o: SendOptions = {}, timeoutMs = 1000): Promise<Packet | undefined> {
    const bytes = this.send(to, body, o);
    const rid = toHex(decode(bytes).rid);
    return new Promise((resolve) => {
      const timer = setTimeout(() => (this.waiting.delete(rid), resolve(undefined)), timeoutMs);
      this.waiting.set(rid, (p) => (clearTimeout(timer), resolve(p)));
    });
  }

  /**
   * Gets into the target's routing table as an honest node would: a PING for its token and id, then a
   * request that echoes the token and proves our id.
   */
  async introduce(to: Endpoint): Promise<boolean> {
    if (!(await this.ask(to, { type: MsgType.PING }))) return false;
    return !!(await this.ask(to, { type: MsgType.PING }, { prove: true }));
  }

  private receive(data: Uint8Array, from: Endpoint): void {
    this.received.datagrams++;
    this.received.bytes += data.length;
    let p: Packet;
    try {
      p = decode(data);
    } catch {
      return;
    }
    if (p.body.type % 2 === 0) {
      if (p.token.some((b) => b !== 0)) this.tokens.set(key(from), p.token);
      this.ids.set(key(from), p.sender);
      const rid = toHex(p.rid);
      this.waiting.get(rid)?.(p);
      this.waiting.delete(rid);
      return;
    }
    if (this.requests.push({ packet: p, from, bytes: data.slice() }) > 10_000) this.requests.shift(); // bounded at full rate
    const body = this.answer(p, from);
    if (!body) return;
    const proof = p.flags & Flag.WANT_PROOF ? makeProof(this.identity, p.rid, p.sender) : undefined;
    this.sendRaw(encode({ flags: this.replyFlags, rid: p.rid, sender: this.identity.nodeId, token: this.replyToken ?? zeroToken(), proof, body }), from);
  }

  close(): void {
    this.transport.close();
  }
}

function key(e: Endpoint): string {
  return `${e.address}:${e.port}`;
}

/** What an honest node would answer, knowing nobody. */
function defaultAnswer(req: Packet, from: Endpoint, claim?: Endpoint): Body | undefined {
  switch (req.body.type) {
    case MsgType.PING:
      return { type: MsgType.PONG, observed: claim ?? from };
    case MsgType.FIND_NODE:
    case MsgType.FIND_VALUE:
      return { type: MsgType.NODES, contacts: [] };
    case MsgType.STORE:
      return { type: MsgType.STORED, status: StoreStatus.STORED };
    default:
      return undefined;
  }
}
