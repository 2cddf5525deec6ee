/**
 * The simulations' loss models: the probability that a datagram from one address to another is lost.
 *
 * - "independent": every datagram is lost with probability P, whatever happened before.
 * - "bursty": a Gilbert-Elliott channel on every node's access link, one for each direction. Congestion
 *   loss happens at the bottleneck queue, usually the access link, so while a node's link is in its Bad
 *   state every datagram it sends (uplink) or receives (downlink) is lost, to and from every peer at once;
 *   in the Good state nothing is. The chain runs in time, not per packet (a DHT node's datagrams to one
 *   peer are seconds apart): Bad periods last MEAN_BAD_MS on average, exponentially distributed. Measured
 *   Internet losses come in bursts at probe spacings of tens of ms and are close to independent at 500 ms
 *   (Bolot, "End-to-end packet delay and loss behavior in the Internet", SIGCOMM 1993), with a correlation
 *   time scale of about a second or less (Yajnik et al., "Measurement and modelling of the temporal
 *   dependence in packet loss", INFOCOM 1999): with a mean of 200 ms, 8% of Bad periods outlast 500 ms and
 *   0.7% a second, so a retransmission after one RTO often meets the same burst. A datagram crosses two
 *   links (the sender's uplink, the receiver's downlink), each Bad a fraction q = 1 - sqrt(1 - P) of the
 *   time, so that P of all datagrams are lost, as with the independent model.
 */
import { hash } from "./latency.ts";
import { seededRandom } from "../../util/random.ts";

export const MEAN_BAD_MS = 200;

export interface LossModel {
  loss(from: string, to: string): number;
  describe(): string;
}

export function independentLoss(rate: number): LossModel {
  return { loss: () => rate, describe: () => `independent: every datagram lost with probability ${rate}` };
}

interface LinkState {
  bad: boolean;
  /** When the current state ends. */
  until: number;
  random: () => number;
}

export class GilbertElliottLoss implements LossModel {
  private readonly links = new Map<string, LinkState>();
  /** Fraction of time each link is Bad, and the mean Good period that gives it. */
  readonly badFraction: number;
  readonly meanGoodMs: number;

  constructor(readonly average: number, private readonly seed: number, private readonly now: () => number, readonly meanBadMs = MEAN_BAD_MS) {
    this.badFraction = 1 - Math.sqrt(1 - average);
    this.meanGoodMs = this.badFraction > 0 ? (meanBadMs * (1 - this.badFraction)) / this.badFraction : Infinity;
  }

  loss(from: string, to: string): number {
    return this.isBad(`${from}>`) || this.isBad(`>${to}`) ? 1 : 0;
  }

  /** The link's state now; each link's chain has its own seeded generator, so the order of calls does not matter. */
  isBad(link: string): boolean {
    if (this.badFraction <= 0) return false;
    const t = this.now();
    let s = this.links.get(link);
    if (!s) {
      const random = seededRandom(hash(link) ^ this.seed);
      const bad = random() < this.badFraction; // start in the stationary distribution
      s = { bad, until: t + this.duration(bad, random), random };
      this.links.set(link, s);
    }
    while (s.until <= t) {
      s.bad = !s.bad;
      s.until += this.duration(s.bad, s.random);
    }
    return s.bad;
  }

  private duration(bad: boolean, random: () => number): number {
    return -(bad ? this.meanBadMs : this.meanGoodMs) * Math.log(1 - random());
  }

  describe(): string {
    return `bursty: Gilbert-Elliott per access link and direction, Bad ${this.meanBadMs} ms / Good ${Math.round(this.meanGoodMs)} ms on average ` +
      `(exponential), all lost in Bad, none in Good; ${(this.badFraction * 100).toFixed(2)}% Bad per link, ${this.average} of datagrams lost`;
  }
}
