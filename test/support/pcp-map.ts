/**
 * One PCP MAP request (RFC 6887 11.1, version 2; encoded by src/nat/pcp.ts), run inside a testbed host:
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
import { encodeMap, PCP_PORT } from "../../src/nat/pcp.ts";

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
s.bind({ address: from, port: 0 }, () => s.send(encodeMap({ client: from, nonce, protocol: proto, port: Number(port), lifetimeSec: Number(lifetime) }), PCP_PORT, server));
