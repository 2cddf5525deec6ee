/**
 * A bare websocket client for the attacks on the peer port: it binds the source address it is given
 * (an attacker's many addresses in one /24; Bun's WebSocket cannot choose its source), sends whatever
 * headers and frames the attack needs, and reports what the server answered, frame by frame.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";

export interface RawUpgrade {
  host: string;
  port: number;
  path: string;
  headers?: Record<string, string>;
  /** Source address to bind (any 127.x.y.z works on loopback). */
  localAddress?: string;
  timeoutMs?: number;
}

export interface RawFrame {
  opcode: number;
  data: Uint8Array;
}

export interface RawWebSocket {
  /** The HTTP status of the upgrade answer (101 when upgraded). */
  status: number;
  /** The answer's body when it was not upgraded. */
  body: string;
  /** Frames received since the upgrade, in order. */
  frames: RawFrame[];
  /** Resolves with the next frame (undefined once the connection closed). */
  next(timeoutMs?: number): Promise<RawFrame | undefined>;
  send(data: Uint8Array | string): void;
  /** Writes raw bytes to the TCP stream, framing and all. */
  write(bytes: Uint8Array): void;
  closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

/** A client frame: FIN set, masked as RFC 6455 requires of clients. */
export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + len);
  out[0] = 0x80 | opcode;
  const v = new DataView(out.buffer);
  if (head === 2) out[1] = 0x80 | len;
  else if (head === 4) (out[1] = 0x80 | 126), v.setUint16(2, len);
  else (out[1] = 0x80 | 127), v.setBigUint64(2, BigInt(len));
  const mask = randomBytes(4);
  out.set(mask, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

export function openRawWebSocket(o: RawUpgrade): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no upgrade answer within ${o.timeoutMs ?? 5000} ms`));
    }, o.timeoutMs ?? 5000);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let closed = false;
    const waiters: ((f: RawFrame | undefined) => void)[] = [];
    let read = 0;
    let onClosed!: () => void;
    const ws: RawWebSocket = {
      status: 0, body: "", frames: [],
      next: (timeoutMs = 5000) => {
        if (read < ws.frames.length) return Promise.resolve(ws.frames[read++]);
        if (closed) return Promise.resolve(undefined);
        return new Promise((r) => {
          const t = setTimeout(() => r(undefined), timeoutMs);
          waiters.push((f) => (clearTimeout(t), r(f)));
        });
      },
      send: (data) => ws.write(clientFrame(typeof data === "string" ? 1 : 2, typeof data === "string" ? new TextEncoder().encode(data) : data)),
      write: (bytes) => void (!closed && sock.write(bytes)),
      closed: new Promise((r) => (onClosed = r)),
      isClosed: () => closed,
      close: () => sock.destroy(),
    };
    const deliver = (f: RawFrame) => {
      ws.frames.push(f);
      const w = waiters.shift();
      if (w) (read++, w(f));
    };
    const parseFrames = () => {
      while (buf.length >= 2) {
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) (len = buf.length >= 4 ? buf.readUInt16BE(2) : -1), (at = 4);
        else if (len === 127) (len = buf.length >= 10 ? Number(buf.readBigUInt64BE(2)) : -1), (at = 10);
        if (len < 0 || buf.length < at + len) return;
        const f = { opcode: buf[0]! & 0x0f, data: new Uint8Array(buf.subarray(at, at + len)) };
        buf = buf.subarray(at + len);
        if (f.opcode === 9) ws.write(clientFrame(10, f.data)); // answer pings, as any client does
        else if (f.opcode !== 10) deliver(f);
      }
    };
    sock.on("connect", () => {
      const key = randomBytes(16).toString("base64");
      const lines = [`GET ${o.path} HTTP/1.1`, `Host: ${o.host}:${o.port}`, "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13", `Sec-WebSocket-Key: ${key}`];
      for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`${k}: ${v}`);
      sock.write(lines.join("\r\n") + "\r\n\r\n");
    });
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        ws.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.subarray(0, end).toString())?.[1] ?? 0);
        if (ws.status !== 101) {
          // Not upgraded: the rest is the body (short JSON errors here); wait for it to arrive.
          const head = buf.subarray(0, end).toString();
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + length) return;
          ws.body = buf.subarray(end + 4, end + 4 + length).toString();
          clearTimeout(timer);
          sock.destroy();
          return resolve(ws);
        }
        upgraded = true;
        buf = buf.subarray(end + 4);
        clearTimeout(timer);
        resolve(ws);
      }
      parseFrames();
    });
    sock.on("error", (e) => {
      if (!upgraded && ws.status === 0) (clearTimeout(timer), reject(e));
    });
    sock.on("close", () => {
      closed = true;
      clearTimeout(timer);
      if (!upgraded && ws.status === 0) reject(new Error("connection closed before an upgrade answer"));
      for (const w of waiters.splice(0)) w(undefined);
      onClosed();
    });
  });
}
