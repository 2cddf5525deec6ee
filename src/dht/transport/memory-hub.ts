/**
 * The in-memory transport for tests and simulation: endpoints on a hub that delivers each datagram after
 * the link's one-way delay, or drops it with the link's loss probability. Time comes from the clock seam,
 * so a whole network runs on virtual time (FakeClock) or real time.
 */
import type { Clock } from "../../util/clock.ts";
import type { DatagramHandler, DatagramTransport } from "./types.ts";

export interface LinkModel {
  /** One-way delay in ms from one endpoint address to another. */
  delayMs(from: string, to: string): number;
  /** Probability that a datagram from → to is lost. */
  loss(from: string, to: string): number;
}

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

  /** A new endpoint; without an address it gets the next 10.x.y.1, port 4100 unless given. */
  endpoint(address?: string, port = 4100): MemoryEndpoint {
    const addr = address ?? this.allocate();
    const key = `${addr}:${port}`;
    if (this.endpoints.has(key)) throw new Error(`memory hub: ${key} is taken`);
    const ep = new MemoryEndpoint(this, addr, port);
    this.endpoints.set(key, ep);
    return ep;
  }

  /** Every host in a /24 of its own (10.0.1.1, 10.0.2.1, ...), as on the Internet: limits per /24 apply per host. */
  private allocate(): string {
    const n = this.nextHost++;
    return `10.${(n >> 8) & 255}.${n & 255}.${1 + (n >> 16)}`;
  }

  /** @internal */
  route(from: MemoryEndpoint, data: Uint8Array, address: string, port: number): void {
    this.sent++;
    if (this.random() < this.links.loss(from.address, address)) {
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
      to.receive(copy, from.address, from.port);
    };
    this.clock.setTimeout(deliver, this.links.delayMs(from.address, address));
  }

  /** @internal */
  detach(ep: MemoryEndpoint): void {
    this.endpoints.delete(`${ep.address}:${ep.port}`);
  }
}

export class MemoryEndpoint implements DatagramTransport {
  private handler: DatagramHandler = () => {};
  closed = false;

  constructor(private readonly hub: MemoryHub, readonly address: string, readonly port: number) {}

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
