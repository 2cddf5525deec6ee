/**
 * One request to a home router's UDP service (NAT-PMP, PCP) from a socket of its own, bound to the node's
 * address, retransmitted after 250 ms, doubling (RFC 6886 §3.1; we stop after 4 tries, 3.75 s, rather than
 * the RFC's 9, so a network without the service costs a node's start little).
 */
import { createSocket } from "node:dgram";
import { IconError } from "../errors.ts";
import { familyOf } from "../util/ipv6.ts";

const FIRST_RTO_MS = 250;
const TRIES = 4;

export interface GatewayRequest<T> {
  local: string;
  /** An IPv6 link-local server carries its "%scope". */
  server: string;
  port: number;
  req: Uint8Array;
  /** Names the service in errors: "NAT-PMP", "PCP". */
  what: string;
  /** Reads a datagram: the answer, undefined to wait on (not an answer to this request), or throws to fail. */
  accept: (msg: Uint8Array, from: { address: string; port: number }) => T | undefined;
}

export function askGateway<T>(r: GatewayRequest<T>): Promise<T> {
  const where = familyOf(r.server.split("%")[0]!) === 6 ? `[${r.server}]:${r.port}` : `${r.server}:${r.port}`;
  return new Promise((resolve, reject) => {
    const sock = createSocket(familyOf(r.local) === 6 ? "udp6" : "udp4");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (err?: Error, answer?: T) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(answer!);
    };
    sock.on("error", (e) => done(new IconError("UNREACHABLE", `no ${r.what} answer from ${where}: ${e.message}`)));
    sock.on("message", (msg, from) => {
      try {
        const answer = r.accept(new Uint8Array(msg), from);
        if (answer !== undefined) done(undefined, answer);
      } catch (e) {
        done(e as Error);
      }
    });
    let tries = 0;
    const send = () => {
      if (tries++ === TRIES) return done(new IconError("TIMEOUT", `no ${r.what} answer from ${where} after ${TRIES} tries`));
      sock.send(r.req, r.port, r.server);
      timer = setTimeout(send, FIRST_RTO_MS * 2 ** (tries - 1));
    };
    sock.bind(0, r.local, send);
  });
}
