/**
 * Token buckets per source: requests beyond a steady rate (with a burst allowance) are dropped unanswered
 * and counted. Two levels: per IP:port (one misbehaving peer) and per IP (many sockets of one host, or a
 * spoofer varying the port; for IPv6 per /64, the addresses one host can take). The tables are bounded: when full, the oldest half is forgotten.
 */
import type { Clock } from "../util/clock.ts";
import { BURST_PER_ADDRESS, BURST_PER_IP, RATE_PER_ADDRESS, RATE_PER_IP } from "./constants.ts";
import { forgetOldest } from "./forget-oldest.ts";
import { limitKey } from "../util/ipv6.ts";

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly map = new Map<string, Bucket>();
  constructor(
    private readonly clock: Clock,
    readonly perSecond: number,
    readonly burst: number,
    private readonly maxEntries = 20_000,
  ) {}

  /** Takes one token for `key`; false when the source is over its rate. */
  take(key: string): boolean {
    const now = this.clock.now();
    let b = this.map.get(key);
    if (!b) {
      if (this.map.size >= this.maxEntries) forgetOldest(this.map, this.map.size >> 1);
      b = { tokens: this.burst, at: now };
      this.map.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.map.size;
  }
}

export interface RateLimits {
  perAddress?: number;
  perIp?: number;
}

/** The node's limiter: both levels must have a token. */
export class RequestLimiter {
  private readonly byAddress: TokenBuckets;
  private readonly byIp: TokenBuckets;
  constructor(clock: Clock, limits: RateLimits = {}) {
    const a = limits.perAddress ?? RATE_PER_ADDRESS;
    const i = limits.perIp ?? RATE_PER_IP;
    this.byAddress = new TokenBuckets(clock, a, a === RATE_PER_ADDRESS ? BURST_PER_ADDRESS : 2 * a);
    this.byIp = new TokenBuckets(clock, i, i === RATE_PER_IP ? BURST_PER_IP : 2 * i);
  }
  allow(address: string, port: number): boolean {
    return this.byAddress.take(`${address}:${port}`) && this.byIp.take(limitKey(address));
  }
}
