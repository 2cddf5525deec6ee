/**
 * The peer protocol between nodes: one websocket per pair of nodes, opened by either side and used by
 * both, authenticated by a signed handshake (auth.ts) and then carrying JSON control frames and binary
 * data frames. Kept open and reused: a migration should never pay for a new TCP and websocket handshake.
 *
 * Text frames (JSON):
 *   {t:"welcome", v, key, boot, sig}           server → client, first frame: proves the server's identity
 *   {t:"req", id, op, body}                    a request; ids are per direction
 *   {t:"evt", id, body}                        a progress event for request id
 *   {t:"res", id, ok:true, body} | {t:"res", id, ok:false, error:{error, code, fix}}
 *   {t:"msg", op, body}                        one-way notification
 * Binary frames: 4-byte big-endian request id of the receiver's request, then payload (bulk data such as
 * image layers, streamed as the answer to that request). Id 0 (never a request id) is a request with an
 * attachment: 4-byte length of the request's JSON, the JSON, then the attachment, in one frame, so that a
 * small request and its bytes travel in one go.
 */

export const PROTOCOL_VERSION = 1;
export const WS_PATH = "/v1/peer/ws";

/** Largest frame accepted; bulk data is chunked below it. */
export const MAX_FRAME_BYTES = 1 << 20;
export const CHUNK_BYTES = 256 * 1024;
/** Largest JSON body of a request (state blobs handed to replicas live in here). */
export const MAX_JSON_BYTES = 512 * 1024;
/** Signed handshakes are valid this long either side of the receiver's clock. */
export const HANDSHAKE_WINDOW_MS = 120_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface WireError {
  error: string;
  code: string;
  fix?: string;
}

export type Frame =
  | { t: "welcome"; v: number; key: string; sig: string; boot?: string }
  | { t: "req"; id: number; op: string; body: unknown }
  | { t: "evt"; id: number; body: unknown }
  | { t: "res"; id: number; ok: true; body: unknown }
  | { t: "res"; id: number; ok: false; error: WireError }
  | { t: "msg"; op: string; body: unknown };

/** Parses and shape-checks a text frame; undefined for anything malformed. */
export function parseFrame(text: string): Frame | undefined {
  if (text.length > MAX_JSON_BYTES + 1024) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== "object") return undefined;
  const f = v as Record<string, unknown>;
  const isId = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x > 0 && x < 2 ** 32;
  switch (f.t) {
    case "welcome":
      return typeof f.v === "number" && typeof f.key === "string" && typeof f.sig === "string" ? (f as Frame) : undefined;
    case "req":
      return isId(f.id) && typeof f.op === "string" && f.op.length < 64 ? (f as Frame) : undefined;
    case "evt":
      return isId(f.id) ? (f as Frame) : undefined;
    case "res":
      if (!isId(f.id)) return undefined;
      if (f.ok === true) return f as Frame;
      if (f.ok === false && f.error && typeof (f.error as WireError).error === "string") return f as Frame;
      return undefined;
    case "msg":
      return typeof f.op === "string" && f.op.length < 64 ? (f as Frame) : undefined;
    default:
      return undefined;
  }
}

/** A request frame with an attachment: [0][json length][json][attachment]. */
export function attachedFrame(json: string, attachment: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + attachment.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0);
  view.setUint32(4, text.length);
  out.set(text, 8);
  out.set(attachment, 8 + text.length);
  return out;
}

export function binaryFrame(id: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, id);
  out.set(payload, 4);
  return out;
}
