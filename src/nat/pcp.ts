/**
 * A PCP client (RFC 6887) for IPv6 pinholes: MAP requests to the default router's port 5351, from the
 * node's own address (the server compares it with the address in the request: ADDRESS_MISMATCH). PCP
 * controls firewalls as well as NATs: on an IPv6 router without NAT a MAP lets traffic in to the same
 * address and port, a pinhole (miniupnpd adds an ACCEPT rule). Each pinhole has its nonce,
 * kept for its renewals and its delete (lifetime 0), which must repeat it (§11.1). Retransmitted like
 * NAT-PMP (gateway-udp.ts: 250 ms, doubling, 4 tries) rather than from §8.1.1's 3 s, so a router without
 * PCP costs a node's start little. An answer counts only from the server's address and port, with the
 * response bit on the request's opcode and, for MAP, the request's nonce.
 */
import { IconError } from "../errors.ts";
import { toHex } from "../util/hex.ts";
import { canonicalIPv6, formatIPv6, ipv6ToBytes } from "../util/ipv6.ts";
import { askGateway } from "./gateway-udp.ts";
import { IANA_PROTOCOL, type PinholeOpener } from "./pinhole-opener.ts";
import type { Protocol } from "./port-mapper.ts";

export const PCP_PORT = 5351;
const VERSION = 2;
export const OPCODE = { announce: 0, map: 1 } as const;
const RESPONSE_BIT = 0x80;
const HEADER = 24;
const MAP_SIZE = HEADER + 36;
const NONCE = 12;
/** Result codes, §7.4. */
const RESULTS = ["SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST", "UNSUPP_OPCODE", "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE", "NO_RESOURCES", "UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL", "ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS"];

export interface MapRequest {
  client: string;
  nonce: Uint8Array;
  protocol: Protocol;
  port: number;
  /** 0 deletes. */
  lifetimeSec: number;
}

/** §7.1's common header: version, R=0 and opcode, reserved, requested lifetime, the client's address. */
function header(opcode: number, lifetimeSec: number, client: string, size: number): Uint8Array {
  const bytes = ipv6ToBytes(client);
  if (!bytes) throw new IconError("INVALID_INPUT", `PCP needs the client's IPv6 address, not ${client}`);
  const b = new Uint8Array(size);
  b[0] = VERSION;
  b[1] = opcode;
  new DataView(b.buffer).setUint32(4, lifetimeSec);
  b.set(bytes, 8);
  return b;
}

/** A MAP request (§11.1): the header, then nonce, protocol, internal port, suggested external port (the same) and address (::). */
export function encodeMap(r: MapRequest): Uint8Array {
  if (r.nonce.length !== NONCE) throw new IconError("INVALID_INPUT", `a PCP nonce has ${NONCE} bytes, not ${r.nonce.length}`);
  const b = header(OPCODE.map, r.lifetimeSec, r.client, MAP_SIZE);
  const v = new DataView(b.buffer);
  b.set(r.nonce, HEADER);
  b[HEADER + 12] = IANA_PROTOCOL[r.protocol];
  v.setUint16(HEADER + 16, r.port);
  v.setUint16(HEADER + 18, r.port);
  return b;
}

/** An ANNOUNCE request (§14.1): the header alone, lifetime 0; asks whether a PCP server is there. */
export function encodeAnnounce(client: string): Uint8Array {
  return header(OPCODE.announce, 0, client, HEADER);
}

export interface PcpAnswer {
  lifetimeSec: number;
  /** The server's epoch (§8.5): it falls when the server lost its state. */
  epoch: number;
  /** MAP only. */
  externalPort?: number;
  externalAddress?: string;
}

export interface Expected {
  /** The server's address and port (a link-local one with or without its "%scope"). */
  server: string;
  port: number;
  opcode: number;
  /** MAP: the request's nonce. */
  nonce?: Uint8Array;
}

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const bare = (a: string) => canonicalIPv6(a.split("%")[0]!) ?? a;

/**
 * Reads a datagram as the answer to a request: `{ ignored }` with the reason when it is not one (another
 * sender, too short, another opcode or nonce: it is dropped and the client waits on), the answer on
 * SUCCESS, and an IconError naming the result code otherwise.
 */
export function decodeAnswer(msg: Uint8Array, from: { address: string; port: number }, e: Expected): PcpAnswer | { ignored: string } {
  if (bare(from.address) !== bare(e.server) || from.port !== e.port) return { ignored: `from [${from.address}]:${from.port}, not the server` };
  const size = e.opcode === OPCODE.map ? MAP_SIZE : HEADER;
  if (msg.length < 4) return { ignored: `${msg.length} bytes` };
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const result = msg[3]!;
  // §9: a server of another version answers UNSUPP_VERSION in its own format.
  if (msg[0] !== VERSION) {
    if (result === 1) throw new IconError("UNSUPPORTED", `the PCP server at ${e.server} does not speak PCP version ${VERSION} (it answered version ${msg[0]})`);
    return { ignored: `version ${msg[0]}` };
  }
  if (msg[1] !== (e.opcode | RESPONSE_BIT)) return { ignored: `opcode ${msg[1]}` };
  if (msg.length < size) return { ignored: `${msg.length} bytes, a ${e.opcode === OPCODE.map ? "MAP" : "PCP"} answer has ${size}` };
  if (e.nonce && toHex(msg.subarray(HEADER, HEADER + NONCE)) !== toHex(e.nonce)) return { ignored: "another nonce" };
  if (result !== 0) throw new IconError("FAILED", `the PCP server at ${e.server} refused: ${RESULTS[result] ?? "result"} (${result})`);
  const answer: PcpAnswer = { lifetimeSec: v.getUint32(4), epoch: v.getUint32(8) };
  if (e.opcode !== OPCODE.map) return answer;
  return { ...answer, externalPort: v.getUint16(HEADER + 18), externalAddress: formatIPv6(msg.subarray(HEADER + 20, HEADER + 36)) };
}

export class Pcp implements PinholeOpener {
  readonly via = "pcp";
  readonly gateway: string;

  /** `address`: the node's own (requests are sent from it); `server`: the default router, "%scope" included when link-local. */
  constructor(readonly address: string, private readonly server: string, private readonly port = PCP_PORT) {
    this.gateway = `[${server}]:${port}`;
  }

  /** Whether a PCP server answers at the default router. */
  async announce(): Promise<void> {
    await this.ask(encodeAnnounce(this.address), { server: this.server, port: this.port, opcode: OPCODE.announce });
  }

  /** A MAP for `port`; `id` is an earlier MAP's nonce (hex): the same pinhole, renewed. */
  async open(protocol: Protocol, port: number, lifetimeSec: number, id?: string): Promise<{ id: string; lifetimeSec: number }> {
    const nonce = id ? fromHex(id) : crypto.getRandomValues(new Uint8Array(NONCE));
    const a = await this.map(protocol, port, lifetimeSec, nonce);
    if (a.externalPort !== port) {
      // A NAT66 between the node and the Internet, not a firewall: its address is not the node's.
      await this.map(protocol, port, 0, nonce).catch(() => {});
      throw new IconError("UNSUPPORTED", `the PCP server at ${this.gateway} maps port ${port} to ${a.externalAddress} port ${a.externalPort}: a NAT66, not a firewall pinhole`);
    }
    return { id: toHex(nonce), lifetimeSec: a.lifetimeSec };
  }

  async remove(protocol: Protocol, port: number, id: string): Promise<void> {
    await this.map(protocol, port, 0, fromHex(id));
  }

  private map(protocol: Protocol, port: number, lifetimeSec: number, nonce: Uint8Array): Promise<PcpAnswer> {
    return this.ask(encodeMap({ client: this.address, nonce, protocol, port, lifetimeSec }), { server: this.server, port: this.port, opcode: OPCODE.map, nonce });
  }

  private ask(req: Uint8Array, expected: Expected): Promise<PcpAnswer> {
    return askGateway({
      local: this.address, server: this.server, port: expected.port, req, what: "PCP",
      accept: (msg, from) => {
        const a = decodeAnswer(msg, from, expected);
        return "ignored" in a ? undefined : a;
      },
    });
  }
}
