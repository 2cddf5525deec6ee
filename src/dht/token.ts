/**
 * Address tokens: the DHT's answer to reflection and amplification. A reply to an address that has not
 * shown it receives our datagrams is never larger than the request that drew it (DESIGN.md, security
 * model). Every reply carries a token, a MAC of the requester's IP and port under a secret that rotates;
 * a request that echoes a valid token comes from an address that really received our earlier reply, so its
 * reply may be as large as a datagram goes. Tokens cost the responder no state (QUIC's retry token, the
 * BitTorrent DHT's announce token work the same way).
 *
 * The requester's side: it keeps the last token each address gave it, and when it has none (or an old
 * one) it pads its request with zeros up to the size of the reply it expects, so even the first contact
 * needs no extra round trip. A VALUE reply that still does not fit comes back TRUNCATED with a token, and
 * the requester asks again with it (rpc.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../util/clock.ts";
import { TOKEN_BYTES } from "./codec.ts";
import { TOKEN_ROTATE_MS } from "./constants.ts";

export class AddressTokens {
  private current = randomBytes(32);
  private previous = randomBytes(32);
  private rotatedAt: number;

  constructor(private readonly clock: Clock, private readonly rotateMs = TOKEN_ROTATE_MS) {
    this.rotatedAt = clock.now();
  }

  private rotate(): void {
    const now = this.clock.now();
    if (now - this.rotatedAt < this.rotateMs) return;
    // After a long silence both secrets are too old; rotating twice drops them both.
    const twice = now - this.rotatedAt >= 2 * this.rotateMs;
    this.previous = twice ? randomBytes(32) : this.current;
    this.current = randomBytes(32);
    this.rotatedAt = now;
  }

  private mac(secret: Buffer, address: string, port: number): Buffer {
    return createHmac("sha256", secret).update(`${address}:${port}`).digest().subarray(0, TOKEN_BYTES);
  }

  issue(address: string, port: number): Uint8Array {
    this.rotate();
    return new Uint8Array(this.mac(this.current, address, port));
  }

  check(address: string, port: number, token: Uint8Array): boolean {
    if (token.length !== TOKEN_BYTES || token.every((b) => b === 0)) return false;
    this.rotate();
    return timingSafeEqual(this.mac(this.current, address, port), token) || timingSafeEqual(this.mac(this.previous, address, port), token);
  }
}
