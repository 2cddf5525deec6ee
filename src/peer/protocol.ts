/**
 * The peer protocol between nodes: one websocket per pair of nodes, opened by either side and used by
 * both, authenticated and encrypted by a Noise handshake bound to the nodes' identities (auth.ts,
 * channel.ts), then carrying JSON control frames and binary data frames, every one of them encrypted.
 * Kept open and reused: a migration should never pay for a new TCP and websocket handshake.
 *
 * Frames inside the channel. Text (JSON):
 *   {t:"req", id, op, body}                    a request; ids are per direction
 *   {t:"evt", id, body}                        a progress event for request id
 *   {t:"res", id, ok:true, body} | {t:"res", id, ok:false, error:{error, code, fix}}
 *   {t:"msg", op, body}                        one-way notification
 * Binary: 4-byte big-endian request id of the receiver's request, then payload (bulk data such as
 * image layers, streamed as the answer to that request). Id 0 (never a request id) is a request with an
 * attachment: 4-byte length of the request's JSON, the JSON, then the attachment, in one frame, so that a
 * small request and its bytes travel in one go.
 */
import { MAX_MESSAGE_BYTES, TAG_BYTES } from "./noise.ts";

/** 2: the Noise channel; 1 was signed headers and frames in the clear. */
export const PROTOCOL_VERSION = 2;
export const WS_PATH = "/v1/peer/ws";

/** Largest frame accepted (a request with its attachment); larger frames travel in fragments (channel.ts). */
export const MAX_FRAME_BYTES = 1 << 20;
/** Frame bytes per Noise message: the message less its tag and the fragment byte (channel.ts). */
export const FRAGMENT_BYTES = MAX_MESSAGE_BYTES - TAG_BYTES - 1;
/**
 * Bulk data per binary frame: one Noise message each (a fragment less the request id), so no chunk is
 * split and joined again. Measured against 256 KiB chunks (four fragments each) on a 30 MB transfer
 * over loopback: about as fast or faster.
 */
export const CHUNK_BYTES = FRAGMENT_BYTES - 4;
/** Largest JSON body of a request (state blobs handed to replicas live in here). */
export const MAX_JSON_BYTES = 512 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface WireError {
  error: string;
  code: string;
  fix?: string;
}

export type Frame =
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
