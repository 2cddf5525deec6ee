/**
 * The DHT half of a dial-back: a PING to the node's claimed DHT port from a socket of its own (a fresh
 * port), so that a NAT's conntrack entry for the verifier's usual DHT port does not let it through; only
 * a mapping or a forward does (AutoNAT's point). It asks for an id proof and is padded so that the
 * proven PONG fits (a node answers a stranger with no more bytes than it sent, dht/token.ts): the
 * answer counts only when the node there signs as the node that asked.
 */
import { randomBytes } from "node:crypto";
import { decode, encode, Flag, MsgType, zeroToken } from "../dht/codec.ts";
import type { Id } from "../dht/id.ts";
import { equalIds } from "../dht/id.ts";
import { checkProof } from "../dht/proof.ts";
import { requestPadding } from "../dht/rpc.ts";
import { UdpTransport } from "../dht/transport/udp.ts";
import type { Identity } from "../identity/identity.ts";
import { familyOf } from "../util/ipv6.ts";

/** Retransmissions of the PING: 300, 600, 1200 ms (2.1 s in all). */
const FIRST_RTO_MS = 300;
const TRIES = 3;

/** Whether node `nodeId` answers, proving its id, at address:port; from a new socket on `bind`. */
export async function udpDialback(o: { identity: Identity; bind: string; address: string; port: number; nodeId: Id }): Promise<boolean> {
  const sock = await UdpTransport.open(o.bind, 0);
  const rids: Uint8Array[] = [];
  return new Promise<boolean>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    sock.onDatagram((data, address, port) => {
      if (address !== o.address || port !== o.port) return;
      let p;
      try {
        p = decode(data);
      } catch {
        return;
      }
      const rid = rids.find((r) => equalIds(r, p.rid));
      if (rid && p.body.type === MsgType.PONG && equalIds(p.sender, o.nodeId) && p.proof && checkProof(p.proof, p.sender, rid, o.identity.nodeId)) done(true);
    });
    const send = () => {
      if (rids.length === TRIES) return done(false);
      const rid = new Uint8Array(randomBytes(8));
      rids.push(rid);
      const body = { type: MsgType.PING } as const;
      sock.send(encode({ flags: Flag.WANT_PROOF, rid, sender: o.identity.nodeId, token: zeroToken(), body, padTo: requestPadding(body, true, familyOf(o.address) === 6) }), o.address, o.port);
      timer = setTimeout(send, FIRST_RTO_MS * 2 ** (rids.length - 1));
    };
    send();
  });
}
