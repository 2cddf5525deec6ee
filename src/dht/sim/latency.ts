/**
 * The benchmark's latency model: every node sits at a random point of a unit square (a continent), and the
 * one-way delay between two nodes is a fixed access delay plus a distance term plus a little jitter. With
 * the defaults RTTs run from about 4 ms (neighbours) to about 190 ms (opposite corners), median about 69 ms:
 * the spread of RTTs between edge sites in one region of the Internet.
 */
import type { LinkModel } from "../transport/memory-hub.ts";

export interface PlaneModelOptions {
  /** One-way delay added to every datagram (access links). @default 2 */
  baseMs?: number;
  /** One-way delay across the whole square's side. @default 60 */
  spanMs?: number;
  /** Uniform random extra delay, as a fraction of the link's delay. @default 0.1 */
  jitter?: number;
  loss?: number;
}

export class PlaneModel implements LinkModel {
  private readonly at = new Map<string, [number, number]>();
  lossRate: number;

  constructor(private readonly random: () => number, private readonly o: PlaneModelOptions = {}) {
    this.lossRate = o.loss ?? 0;
  }

  private position(address: string): [number, number] {
    let p = this.at.get(address);
    if (!p) {
      p = [this.random(), this.random()];
      this.at.set(address, p);
    }
    return p;
  }

  delayMs(from: string, to: string): number {
    const [ax, ay] = this.position(from);
    const [bx, by] = this.position(to);
    const d = (this.o.baseMs ?? 2) + (this.o.spanMs ?? 60) * Math.hypot(ax - bx, ay - by);
    return d * (1 + (this.o.jitter ?? 0.1) * this.random());
  }

  loss(): number {
    return this.lossRate;
  }
}
