/**
 * What the peer port lets one source hold, so that floods from one place never keep honest nodes out.
 * Node ids cost nothing to make, so sources are counted by address: per IP and per /24 (discv5's rule
 * for its tables), for sockets in the handshake and for open connections, with a rate of new handshakes
 * per /24. When the whole table is full, a newcomer from a /24 that holds less than the busiest /24
 * takes the place of that /24's least active socket: an attacker holding many /24s loses sockets to
 * every newcomer from elsewhere before anyone else does.
 */
import { familyOf, limitKey, sybilNet } from "../util/ipv6.ts";
import { IconError } from "../errors.ts";
import { TokenBuckets } from "../dht/rate-limit.ts";
import type { Clock } from "../util/clock.ts";

export interface InboundLimitsConfig {
  /** Open connections and handshakes accepted from other nodes, in all. @default 512 */
  maxConnections: number;
  /** ... from one IP address. @default 16 */
  connectionsPerIp: number;
  /** ... from one /24. @default 64 */
  connectionsPerSubnet: number;
  /** Handshakes in progress (upgraded, message 3 not yet in), in all. @default 128 */
  maxHandshakes: number;
  /** ... from one /24. @default 16 */
  handshakesPerSubnet: number;
  /** New handshakes per second from one /24, with a burst of twice that. @default 50 */
  handshakeRatePerSubnet: number;
  /** A handshake not finished within this is closed. @default 10000 */
  handshakeTimeoutMs: number;
  /** Plain HTTP requests (GET /v1/peer/info) per second from one /24, with a burst of twice that. @default 5 */
  httpRatePerSubnet: number;
}

export const DEFAULT_INBOUND_LIMITS: InboundLimitsConfig = {
  maxConnections: 512,
  connectionsPerIp: 16,
  connectionsPerSubnet: 64,
  maxHandshakes: 128,
  handshakesPerSubnet: 16,
  handshakeRatePerSubnet: 50,
  handshakeTimeoutMs: 10_000,
  httpRatePerSubnet: 5,
};

/** One inbound socket as the limits see it. */
export interface InboundSlot {
  readonly ip: string;
  readonly subnet: string;
  handshaking: boolean;
  lastActivity: number;
  /** Closes the socket to make room for a newcomer (set once the socket exists). */
  evict: () => void;
}

/** Refusals and evictions by reason, for the peer component's status. */
export interface InboundCounters {
  handshakeRate: number;
  perIp: number;
  perSubnet: number;
  handshakesPerSubnet: number;
  full: number;
  evicted: number;
  handshakeTimeout: number;
  badHandshake: number;
  /** Connections closed because a frame failed authentication (tampering, or a broken peer). */
  badFrame: number;
  httpRate: number;
  /** Endpoint claims left unprobed: more new peers per second than the probe rate. */
  probeRate: number;
}

/** The /24 of an IPv4 address (an IPv4-mapped IPv6 one too), the /48 of an IPv6 one (util/ipv6.ts sybilNet). */
export function subnetOf(ip: string): string {
  if (familyOf(ip) === 6) return sybilNet(ip);
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  const m = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$/.exec(v4);
  return m ? `${m[1]}.0/24` : ip;
}

export class InboundLimits {
  readonly config: InboundLimitsConfig;
  readonly counters: InboundCounters = { handshakeRate: 0, perIp: 0, perSubnet: 0, handshakesPerSubnet: 0, full: 0, evicted: 0, handshakeTimeout: 0, badHandshake: 0, badFrame: 0, httpRate: 0, probeRate: 0 };
  private readonly slots = new Set<InboundSlot>();
  private readonly handshakeRate: TokenBuckets;
  private readonly httpRate: TokenBuckets;

  constructor(private readonly clock: Clock, config: Partial<InboundLimitsConfig> = {}) {
    this.config = { ...DEFAULT_INBOUND_LIMITS, ...config };
    this.handshakeRate = new TokenBuckets(clock, this.config.handshakeRatePerSubnet, 2 * this.config.handshakeRatePerSubnet, 4096);
    this.httpRate = new TokenBuckets(clock, this.config.httpRatePerSubnet, 2 * this.config.httpRatePerSubnet, 4096);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Whether a plain HTTP request from `ip` is answered; counts it when not. */
  allowHttp(ip: string): boolean {
    if (this.httpRate.take(subnetOf(ip))) return true;
    this.counters.httpRate++;
    return false;
  }

  /**
   * A slot for a new handshake from `ip`, or the refusal (RATE_LIMITED) to answer. Checked before any
   * handshake work is done, so a refused flood costs one map lookup per request.
   */
  admit(ip: string): InboundSlot | IconError {
    const c = this.config;
    const subnet = subnetOf(ip);
    const refuse = (reason: keyof InboundCounters, why: string) => {
      this.counters[reason]++;
      return new IconError("RATE_LIMITED", `peer connection refused: ${why}`, "Wait and dial again; a node needs one connection per peer.");
    };
    if (!this.handshakeRate.take(subnet)) return refuse("handshakeRate", `more than ${c.handshakeRatePerSubnet} handshakes per second from ${subnet}`);
    let fromIp = 0, fromSubnet = 0, handshakesFromSubnet = 0, handshakes = 0;
    const host = limitKey(ip); // an IPv6 host may dial from any address of its /64
    for (const s of this.slots) {
      if (limitKey(s.ip) === host) fromIp++;
      if (s.subnet === subnet) (fromSubnet++, s.handshaking && handshakesFromSubnet++);
      if (s.handshaking) handshakes++;
    }
    if (fromIp >= c.connectionsPerIp) return refuse("perIp", `${ip} holds ${fromIp} connections`);
    if (fromSubnet >= c.connectionsPerSubnet) return refuse("perSubnet", `${subnet} holds ${fromSubnet} connections`);
    if (handshakesFromSubnet >= c.handshakesPerSubnet) return refuse("handshakesPerSubnet", `${subnet} has ${handshakesFromSubnet} handshakes in progress`);
    if (handshakes >= c.maxHandshakes && !this.makeRoom(subnet, true)) return refuse("full", "too many handshakes in progress");
    if (this.slots.size >= c.maxConnections && !this.makeRoom(subnet, false)) return refuse("full", "too many peer connections");
    const slot: InboundSlot = { ip, subnet, handshaking: true, lastActivity: this.clock.now(), evict: () => {} };
    this.slots.add(slot);
    return slot;
  }

  /** False once the slot was released or given to a newcomer. */
  holds(slot: InboundSlot): boolean {
    return this.slots.has(slot);
  }

  release(slot: InboundSlot): void {
    this.slots.delete(slot);
  }

  /** Evicts the least active socket of the busiest /24 if it holds more than the newcomer's /24. */
  private makeRoom(newcomer: string, handshakesOnly: boolean): boolean {
    const bySubnet = new Map<string, InboundSlot[]>();
    for (const s of this.slots) {
      if (handshakesOnly && !s.handshaking) continue;
      const group = bySubnet.get(s.subnet);
      if (group) group.push(s);
      else bySubnet.set(s.subnet, [s]);
    }
    let busiest: InboundSlot[] = [];
    for (const group of bySubnet.values()) if (group.length > busiest.length) busiest = group;
    if (busiest.length <= (bySubnet.get(newcomer)?.length ?? 0) + 1) return false;
    const victim = busiest.reduce((a, b) => (b.lastActivity < a.lastActivity ? b : a));
    this.slots.delete(victim);
    this.counters.evicted++;
    victim.evict();
    return true;
  }
}
