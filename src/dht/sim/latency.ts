/**
 * The simulations' latency models (one-way delay per datagram between two addresses).
 *
 * - PlaneModel ("uniform"): every node sits at a uniformly random point of a unit square (a continent);
 *   delay = access delay + distance term + up to 10% jitter. RTTs 4-190 ms, median about 69 ms: the spread
 *   between edge sites of one region, with no tail at all.
 * - LogNormalModel ("lognormal"): the RTT of each pair of nodes is drawn from a log-normal fitted to a
 *   published Internet RTT distribution (below), and each datagram adds an exponential queueing delay: a
 *   heavy tail across pairs and a right tail per datagram.
 */
import type { LinkModel } from "../transport/memory-hub.ts";
import { seededRandom } from "../../util/random.ts";

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

  describe(): string {
    return "uniform: nodes at uniformly random points of a unit square; one-way delay 2 ms + 60 ms x distance, +0-10% jitter (RTT 4-190 ms, median 69 ms)";
  }
}

/**
 * The published distribution the log-normal is fitted to: CAIDA Archipelago monitor ory5-fr (Free, Paris),
 * IPv4 "CCDF of destination RTTs" over all destinations its topology traces reached
 * (https://www.caida.org/projects/ark/statistics/ory5-fr/dest_rtt_ccdf.html): percentiles 10/25/50/75/90 =
 * 27.2 / 49.5 / 132.7 / 200.9 / 276.6 ms. Fitted to the median and the 90th percentile (the tail is what
 * matters here): mu = ln 132.7 = 4.888, sigma = ln(276.6 / 132.7) / z(0.9) = 0.573. The fit gives 195 ms at
 * the 75th percentile (measured 201) and 503 ms at the 99th; it puts less weight than the data below 50 ms.
 */
export const ARK_ORY5_FR = { medianMs: 132.7, p90Ms: 276.6 } as const;
/** z(0.9): the 90th percentile of the standard normal. */
const Z90 = 1.2815516;

export function fitLogNormal(medianMs: number, p90Ms: number): { mu: number; sigma: number } {
  return { mu: Math.log(medianMs), sigma: Math.log(p90Ms / medianMs) / Z90 };
}

export interface LogNormalOptions {
  /** @default fitted to ARK_ORY5_FR */
  mu?: number;
  sigma?: number;
  /**
   * Mean of the per-datagram queueing delay, exponential, as a fraction of the pair's one-way delay. RTTs
   * of a path cluster tightly around their mode with a long right tail (Acharya & Saltz, "A study of
   * Internet round-trip delay", 1996): 5% on average, 23% for one datagram in 100. @default 0.05
   */
  queueing?: number;
  /** Pair RTTs are clamped to this range (a draw of 10 s would be a broken path, not a slow one). */
  minRttMs?: number;
  maxRttMs?: number;
}

export class LogNormalModel {
  readonly mu: number;
  readonly sigma: number;

  /** `seed` picks every pair's RTT; `random` draws the queueing delays (in the order datagrams are sent). */
  constructor(private readonly seed: number, private readonly random: () => number, private readonly o: LogNormalOptions = {}) {
    const fit = fitLogNormal(ARK_ORY5_FR.medianMs, ARK_ORY5_FR.p90Ms);
    this.mu = o.mu ?? fit.mu;
    this.sigma = o.sigma ?? fit.sigma;
  }

  /** The pair's base RTT: the same both ways and on every call, without storing N² pairs. */
  rttMs(a: string, b: string): number {
    const r = seededRandom(hash(a < b ? `${a}|${b}` : `${b}|${a}`) ^ this.seed);
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()); // Box-Muller
    return Math.min(this.o.maxRttMs ?? 3000, Math.max(this.o.minRttMs ?? 1, Math.exp(this.mu + this.sigma * z)));
  }

  delayMs(from: string, to: string): number {
    const oneWay = this.rttMs(from, to) / 2;
    return oneWay * (1 - (this.o.queueing ?? 0.05) * Math.log(1 - this.random()));
  }

  describe(): string {
    return `lognormal: pair RTT log-normal (mu ${this.mu.toFixed(3)}, sigma ${this.sigma.toFixed(3)}: median ${Math.exp(this.mu).toFixed(1)} ms, fitted to CAIDA Ark ory5-fr's destination RTTs), ` +
      `+ exponential queueing per datagram (mean ${Math.round((this.o.queueing ?? 0.05) * 100)}% of the one-way delay)`;
  }
}

/** FNV-1a, 32 bits. */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
