/**
 * The in-memory transport for tests and simulation: endpoints on a hub that delivers each datagram after
 * the link's one-way delay, or drops it with the link's loss probability. Time comes from the clock seam,
 * so a whole network runs on virtual time (FakeClock) or real time. An endpoint has an IPv4 address, an IPv6
 * one, or both (a dual-stack host): it sends from the address of the destination's family, and a datagram
 * to a family it lacks is lost and counted, as the kernel refuses it.
 */
import type { Clock } from "../../util/clock.ts";
import type { DatagramHandler, DatagramTransport } from "./types.ts";
import { familyOf } from "../../util/ipv6.ts";

export interface LinkModel {
  /** One-way delay in ms from one endpoint address to another. */
  delayMs(from: string, to: string): number;
  /** Probability that a datagram from → to is lost. */
  loss(from: string, to: string): number;
}

export type Stack = "v4" | "v6" | "dual";

export const instantLinks: LinkModel = { delayMs: () => 0, loss: () => 0 };

/** Uniform links: fixed delay plus optional jitter, fixed loss. */
export function uniformLinks(delayMs: number, loss = 0, jitterMs = 0, random: () => number = Math.random): LinkModel {
  return { delayMs: () => delayMs + (jitterMs ? random() * jitterMs : 0), loss: () => loss };
}

export class MemoryHub {
  private readonly endpoints = new Map<string, MemoryEndpoint>();
  private nextHost = 1;
  sent = 0;
  lost = 0;
  delivered = 0;
  /** Datagrams to an address where nothing listens (a node that left). */
  unroutable = 0;

  constructor(
    readonly clock: Clock,
    public links: LinkModel = instantLinks,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * A new endpoint; without an address it gets the next 10.x.y.1, port 4100 unless given. `address` may be
   * IPv6 (an IPv6-only host); `address6` adds an IPv6 address to an IPv4 one on the same port.
   */
  endpoint(address?: string, port = 4100, address6?: string): MemoryEndpoint {
    const addr = address ?? this.allocate();
    const keys = [addr, address6].filter((a) => a !== undefined).map((a) => `${a}:${port}`);
    for (const key of keys) if (this.endpoints.has(key)) throw new Error(`memory hub: ${key} is taken`);
    const ep = new MemoryEndpoint(this, addr, port, address6);
    for (const key of keys) this.endpoints.set(key, ep);
    return ep;
  }

  /** An endpoint of a new host with IPv4, IPv6 or both, its addresses allocated. */
  host(stack: Stack, port = 4100): MemoryEndpoint {
    const n = this.nextHost++;
    const v4 = this.allocate(n);
    const v6 = `2d00:1c0:${n.toString(16)}::1`; // a /48 each, as limits per /48 apply per site
    return stack === "v6" ? this.endpoint(v6, port) : this.endpoint(v4, port, stack === "dual" ? v6 : undefined);
  }

  /** Every host in a /24 of its own (10.0.1.1, 10.0.2.1, ...), as on the Internet: limits per /24 apply per host. */
  private allocate(n = this.nextHost++): string {
    return `10.${(n >> 8) & 255}.${n & 255}.${1 + (n >> 16)}`;
  }

  /** @internal */
  route(from: MemoryEndpoint, data: Uint8Array, address: string, port: number): void {
    const source = familyOf(address) === familyOf(from.address) ? from.address : from.address6;
    if (source === undefined || familyOf(source) !== familyOf(address)) {
      from.sendErrors++;
      return;
    }
    this.sent++;
    if (this.random() < this.links.loss(source, address)) {
      this.lost++;
      return;
    }
    const copy = data.slice();
    const deliver = () => {
      const to = this.endpoints.get(`${address}:${port}`);
      if (!to || to.closed) {
        this.unroutable++;
        return;
      }
      this.delivered++;
      to.receive(copy, source, from.port);
    };
    this.clock.setTimeout(deliver, this.links.delayMs(source, address));
  }

  /** @internal */
  detach(ep: MemoryEndpoint): void {
    this.endpoints.delete(`${ep.address}:${ep.port}`);
    if (ep.address6 !== undefined) this.endpoints.delete(`${ep.address6}:${ep.port}`);
  }
}

export class MemoryEndpoint implements DatagramTransport {
  private handler: DatagramHandler = () => {};
  closed = false;
  /** Datagrams to a family this endpoint has no address of. */
  sendErrors = 0;

  constructor(private readonly hub: MemoryHub, readonly address: string, readonly port: number, readonly address6?: string) {}

  send(data: Uint8Array, address: string, port: number): void {
    if (!this.closed) this.hub.route(this, data, address, port);
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  /** @internal */
  receive(data: Uint8Array, address: string, port: number): void {
    this.handler(data, address, port, false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.detach(this);
  }
}
