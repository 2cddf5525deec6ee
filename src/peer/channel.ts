/**
 * The peer connection after the handshake: every frame (JSON control frames and bulk data alike) is
 * encrypted and authenticated as Noise transport messages, one per websocket binary frame. Nonces are
 * counters, so a frame dropped, replayed, reordered or altered on the way fails authentication, and the
 * connection closes. A frame larger than a Noise message (65535 bytes) travels in fragments: the first
 * plaintext byte of each says text or binary, and whether more fragments follow.
 */
import { IconError } from "../errors.ts";
import type { ChannelKeys } from "./auth.ts";
import type { FrameSocket } from "./connection.ts";
import { MAX_MESSAGE_BYTES } from "./noise.ts";
import { FRAGMENT_BYTES, MAX_FRAME_BYTES } from "./protocol.ts";

const BINARY = 1;
const MORE = 2;
const NO_AD = new Uint8Array(0);

/** What the channel needs from the websocket under it: binary messages out, close, backpressure. */
export interface RawSocket {
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  buffered(): number;
}

export class SecureChannel implements FrameSocket {
  private parts: Uint8Array[] = [];
  private partBytes = 0;

  constructor(private readonly raw: RawSocket, private readonly keys: ChannelKeys) {}

  send(data: string | Uint8Array): void {
    const kind = typeof data === "string" ? 0 : BINARY;
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let off = 0; ; off += FRAGMENT_BYTES) {
      const end = Math.min(bytes.length, off + FRAGMENT_BYTES);
      this.raw.send(this.keys.send.encryptWithAd(NO_AD, Uint8Array.of(kind | (end < bytes.length ? MORE : 0)), bytes.subarray(off, end)));
      if (end >= bytes.length) return;
    }
  }

  /**
   * Decrypts one websocket message: the whole frame once its last fragment is in, else undefined.
   * Throws UNAUTHORIZED for anything the peer did not send (the caller closes the connection).
   */
  open(message: string | Uint8Array): string | Uint8Array | undefined {
    if (typeof message === "string") throw new IconError("UNAUTHORIZED", "peer channel: a plaintext frame after the handshake");
    if (message.length > MAX_MESSAGE_BYTES) throw new IconError("TOO_LARGE", "peer channel: a message above the Noise limit");
    const plain = this.keys.receive.decryptWithAd(NO_AD, message);
    if (plain.length < 1) throw new IconError("UNAUTHORIZED", "peer channel: an empty message");
    const flags = plain[0]!;
    this.partBytes += plain.length - 1;
    if (this.partBytes > MAX_FRAME_BYTES + 8) throw new IconError("TOO_LARGE", `peer channel: a frame above ${MAX_FRAME_BYTES} bytes`);
    this.parts.push(plain.subarray(1));
    if (flags & MORE) return undefined;
    const whole = this.parts.length === 1 ? this.parts[0]! : new Uint8Array(Buffer.concat(this.parts));
    this.parts = [];
    this.partBytes = 0;
    return flags & BINARY ? whole : new TextDecoder().decode(whole);
  }

  close(code?: number, reason?: string): void {
    this.raw.close(code, reason);
  }

  buffered(): number {
    return this.raw.buffered();
  }
}
