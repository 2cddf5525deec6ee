/**
 * Finding 10: an attacker on the path between two nodes (a router, a Wi-Fi access point) sees and may
 * change their peer connection. This relay sits there: the router's iptables REDIRECT hands it the
 * TCP connections meant for a node's peer port, and it forwards them to that node, recording every byte
 * both ways. In "flip" mode it flips one bit of the first client frame sent after the connection was
 * quiet (the handshake is over by then: the request that follows is the target), five bytes from its end; in "inject" mode it
 * slips a well-formed frame of its own (a request, as the plaintext protocol would take it) in front of
 * that frame. The recorded bytes tell whether a passive reader learns anything.
 */
import net from "node:net";
import { clientFrame } from "./raw-websocket.ts";

export type OnPathMode = "pass" | "flip" | "inject";

export interface OnPathOptions {
  /** Port the relay listens on (the REDIRECT target). */
  listenPort: number;
  /** Where the redirected connections were going. */
  to: { address: string; port: number };
  mode: OnPathMode;
  /** How long the client must have been quiet before a frame is tampered with. @default 300 */
  quietMs?: number;
  /** Gets every byte relayed, in order per connection (numbered from 1) and direction. */
  record?: (bytes: Uint8Array, direction: "to-server" | "to-client", connection: number) => void;
  /** The request injected in "inject" mode (a JSON text frame). */
  injected?: string;
}

export interface OnPathRelay {
  stats: { connections: number; tampered: number };
  stop(): void;
}

/** Follows the websocket frames a client sends (after its HTTP upgrade) and tampers with one. */
class ClientStream {
  private pending = Buffer.alloc(0);
  private upgraded = false;
  private lastFrameAt = performance.now();
  done = false;

  constructor(private readonly o: OnPathOptions, private readonly onTamper: () => void) {}

  /** The bytes to forward for `chunk`, changed where the mode says. */
  pass(chunk: Buffer): Buffer {
    if (this.o.mode === "pass" || this.done) return chunk;
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    if (!this.upgraded) {
      const end = this.pending.indexOf("\r\n\r\n");
      if (end < 0) return Buffer.alloc(0);
      out.push(this.pending.subarray(0, end + 4));
      this.pending = this.pending.subarray(end + 4);
      this.upgraded = true;
      this.lastFrameAt = performance.now();
    }
    for (;;) {
      const frame = this.nextFrame();
      if (!frame) break;
      const quiet = performance.now() - this.lastFrameAt >= (this.o.quietMs ?? 300);
      this.lastFrameAt = performance.now();
      const opcode = frame.bytes[0]! & 0x0f;
      if (!this.done && quiet && (opcode === 1 || opcode === 2) && frame.payloadLength >= 32) {
        this.done = true;
        this.onTamper();
        // Five bytes from the end: inside a JSON request's last string value, or an AEAD tag.
        if (this.o.mode === "flip") frame.bytes[frame.bytes.length - 5]! ^= 0x01;
        else out.push(Buffer.from(clientFrame(1, new TextEncoder().encode(this.o.injected ?? "{}"))));
      }
      out.push(frame.bytes);
    }
    if (this.done) out.push(this.pending); // nothing more to follow: pass the rest as it comes
    return Buffer.concat(out);
  }

  private nextFrame(): { bytes: Buffer; payloadLength: number } | undefined {
    const f = frameAt(this.pending);
    if (!f) return undefined;
    const bytes = Buffer.from(this.pending.subarray(0, f.end));
    this.pending = this.pending.subarray(f.end);
    return { bytes, payloadLength: f.end - f.payloadAt };
  }
}

/** Where the websocket frame at the start of `b` ends, its payload starts, and its mask; undefined if incomplete. */
function frameAt(b: Uint8Array): { end: number; payloadAt: number; opcode: number; mask?: Uint8Array } | undefined {
  if (b.length < 2) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let len = b[1]! & 0x7f;
  let at = 2;
  if (len === 126) (len = b.length >= 4 ? v.getUint16(2) : -1), (at = 4);
  else if (len === 127) (len = b.length >= 10 ? Number(v.getBigUint64(2)) : -1), (at = 10);
  const mask = b[1]! & 0x80 ? b.subarray(at, (at += 4)) : undefined;
  if (len < 0 || b.length < at + len) return undefined;
  return { end: at + len, payloadAt: at, opcode: b[0]! & 0x0f, mask };
}

/**
 * What a passive reader of one direction of the stream gets: the HTTP head, then every frame's payload
 * unmasked (a client's mask is sent beside it, so masking hides nothing).
 */
export function readWebSocketStream(bytes: Uint8Array): { head: string; payloads: Uint8Array[] } {
  const end = Buffer.from(bytes).indexOf("\r\n\r\n");
  const head = Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString();
  const payloads: Uint8Array[] = [];
  let rest = end < 0 ? new Uint8Array(0) : bytes.subarray(end + 4);
  for (let f = frameAt(rest); f; f = frameAt(rest)) {
    const p = rest.slice(f.payloadAt, f.end);
    if (f.mask) for (let i = 0; i < p.length; i++) p[i]! ^= f.mask[i & 3]!;
    payloads.push(p);
    rest = rest.subarray(f.end);
  }
  return { head, payloads };
}

export function startOnPathRelay(o: OnPathOptions): Promise<OnPathRelay> {
  const stats = { connections: 0, tampered: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const n = ++stats.connections;
    const upstream = net.connect({ host: o.to.address, port: o.to.port });
    const stream = new ClientStream(o, () => stats.tampered++);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => (sockets.delete(s), client.destroy(), upstream.destroy()));
      s.on("error", () => {});
    }
    client.on("data", (d: Buffer) => {
      o.record?.(d, "to-server", n);
      const out = stream.pass(d);
      if (out.length) upstream.write(out);
    });
    upstream.on("data", (d: Buffer) => {
      o.record?.(d, "to-client", n);
      client.write(d);
    });
  });
  return new Promise((resolve) =>
    server.listen(o.listenPort, "0.0.0.0", () =>
      resolve({
        stats,
        stop: () => {
          server.close();
          for (const s of sockets) s.destroy();
        },
      }),
    ),
  );
}
