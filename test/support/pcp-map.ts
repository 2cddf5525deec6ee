/**
 * One PCP MAP request (RFC 6887 11.1, version 2), run inside a testbed host:
 *
 *   bun test/support/pcp-map.ts FROM SERVER PROTO PORT [LIFETIME [NONCE]]
 *
 * sends from address FROM (the client's own address, which PCP puts in the header and miniupnpd checks
 * against the sender) to [SERVER]:5351 (a link-local SERVER carries its %interface), asks for PROTO
 * (udp|tcp) PORT with the same suggested external port and address ::, and prints the answer as JSON:
 * { result, lifetime, nonceEchoed, port, nonce } (result 0 is SUCCESS), or { error } after 3 s without
 * one. NONCE (24 hex digits; default random): miniupnpd deletes (LIFETIME 0) only with the nonce that
 * made the pinhole.
 */
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";

const PCP_PORT = 5351;
const PROTOCOLS = { udp: 17, tcp: 6 } as const;

/** The 16 bytes of an IPv6 address (no zone). */
export function v6Bytes(address: string): Buffer {
  const [head = "", tail] = address.split("%")[0]!.split("::");
  const h = head ? head.split(":") : [], t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8) throw new Error(`not an IPv6 address: ${address}`);
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
}

/** Header (24 bytes: version 2, opcode MAP, lifetime, client address) and MAP body (36 bytes). */
export function mapRequest(client: string, proto: keyof typeof PROTOCOLS, port: number, lifetime: number, nonce: Buffer): Buffer {
  const b = Buffer.alloc(60);
  b[0] = 2;
  b[1] = 1;
  b.writeUInt32BE(lifetime, 4);
  v6Bytes(client).copy(b, 8);
  nonce.copy(b, 24);
  b[36] = PROTOCOLS[proto];
  b.writeUInt16BE(port, 40);
  b.writeUInt16BE(port, 42);
  // suggested external address (bytes 44-59): ::, zero already
  return b;
}

if (import.meta.main) {
  const [from, server, proto, port, lifetime = "3600", hex] = process.argv.slice(2);
  if (!from || !server || (proto !== "udp" && proto !== "tcp") || !port) {
    console.log(JSON.stringify({ error: "usage: pcp-map.ts FROM SERVER udp|tcp PORT [LIFETIME [NONCE]]" }));
    process.exit(2);
  }
  const nonce = hex ? Buffer.from(hex, "hex") : randomBytes(12);
  const s = createSocket("udp6");
  const timer = setTimeout(() => (console.log(JSON.stringify({ error: "no answer within 3 s" })), process.exit(1)), 3000);
  s.on("message", (m) => {
    clearTimeout(timer);
    console.log(JSON.stringify({ result: m[3], lifetime: m.readUInt32BE(4), nonceEchoed: m.subarray(24, 36).equals(nonce), port: m.readUInt16BE(42), nonce: nonce.toString("hex") }));
    process.exit(0);
  });
  s.bind({ address: from, port: 0 }, () => s.send(mapRequest(from, proto, Number(port), Number(lifetime), nonce), PCP_PORT, server));
}
