/**
 * Round-trip times and retransmission timeouts. Every RPC reply gives an unambiguous sample because each
 * retransmission carries a new request id (Karn's problem cannot arise).
 *
 * RFC 6298's SRTT + 4·RTTVAR per contact remembers the past too well for a DHT: a contact gets a few
 * samples a minute, so samples taken while this machine was busy (30 nodes joining at once on 2 cores
 * measured 67 ms median, 436 ms p99 for loopback peers) kept its timeouts at 0.3-1.2 s long after the
 * machine was idle again, and every lost datagram cost that much. So the timeout has two parts:
 * - the path's own floor, the contact's lowest RTT of the last FLOOR_WINDOW_MS (queueing and a busy machine
 *   only add to it), with a quarter of it again as margin for the path's own jitter (RTTs of a path cluster
 *   tightly above its minimum: Acharya & Saltz, "A study of Internet round-trip delay", 1996);
 * - the delay above such floors, smoothed RFC 6298-style over every reply from every contact
 *   (DelayAboveFloor): it gets many samples a second, so when this machine or its peers get busy it rises
 *   within a few replies for every contact at once (no storm of spurious retransmissions), and it halves
 *   every second without samples, so a past busy moment does not linger.
 * RTO = 1.25·floor + SRTT' + 4·RTTVAR', clamped to [MIN_RTO_MS, MAX_RTO_MS]. RFC 6298's own estimate per
 * contact is still kept: it is the RTT `dht peers` shows, and over all contacts the prior for new ones.
 */
import { INITIAL_RTO_MS, MAX_RTO_MS, MIN_RTO_MS } from "./constants.ts";

/**
 * How long a contact's lowest RTT stands before a newer sample replaces it (a route may have changed, or it
 * was taken while busy): BBR's min-RTT window (Cardwell et al., "BBR: congestion-based congestion control", 2016).
 */
export const FLOOR_WINDOW_MS = 10_000;
/** The delay above the floors loses half its weight per this much time without samples. */
export const DELAY_HALF_LIFE_MS = 1000;

/** RFC 6298 smoothing: SRTT with gain 1/8, RTTVAR with gain 1/4. */
class Smoothed {
  srtt: number | undefined;
  rttvar = 0;

  sample(r: number): void {
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
  }
}

/** One contact's RTT: smoothed (what `dht peers` shows) and its floor. */
export class RttEstimator {
  private readonly smoothed = new Smoothed();
  samples = 0;
  /** Lowest RTT seen within the floor window, and when it was seen. */
  floor: number | undefined;
  private floorAt = 0;

  get srtt(): number | undefined {
    return this.smoothed.srtt;
  }

  /**
   * Takes a sample; returns how far it lies above the contact's floor, or undefined when it sets a new
   * floor (a first sample says nothing about the delay above the floor).
   */
  sample(ms: number, now: number): number | undefined {
    const r = Math.max(0, ms);
    this.smoothed.sample(r);
    this.samples++;
    if (this.floor === undefined || r <= this.floor || now - this.floorAt > FLOOR_WINDOW_MS) {
      const first = this.floor === undefined || now - this.floorAt > FLOOR_WINDOW_MS;
      this.floor = r;
      this.floorAt = now;
      return first ? undefined : 0;
    }
    return r - this.floor;
  }

  /** RFC 6298's timeout from this estimator alone (the prior for contacts never measured). */
  rfcRto(): number {
    const s = this.smoothed;
    return s.srtt === undefined ? INITIAL_RTO_MS : clampRto(s.srtt + 4 * s.rttvar);
  }
}

/** The delay above each contact's floor, over all contacts: this machine's and its peers' current load. */
export class DelayAboveFloor {
  private readonly smoothed = new Smoothed();
  private at = 0;

  sample(aboveFloorMs: number, now: number): void {
    this.decay(now);
    this.smoothed.sample(aboveFloorMs);
  }

  private decay(now: number): void {
    const s = this.smoothed;
    if (s.srtt !== undefined && now > this.at) {
      const f = 0.5 ** ((now - this.at) / DELAY_HALF_LIFE_MS);
      s.srtt *= f;
      s.rttvar *= f;
    }
    this.at = Math.max(this.at, now);
  }

  /** The retransmission timeout for a contact; without samples of it, the prior's (all contacts) or 1 s. */
  rto(contact: RttEstimator, prior: RttEstimator, now: number): number {
    if (contact.floor === undefined) return prior.rfcRto();
    this.decay(now);
    const s = this.smoothed;
    return clampRto(1.25 * contact.floor + (s.srtt ?? 0) + 4 * s.rttvar);
  }
}

function clampRto(ms: number): number {
  return Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, ms));
}

/**
 * The last RECENT_RTTS RTTs over all contacts, for their spread: a node never measured is one more draw
 * from it, and how long its answer may take is a high quantile of it, not RFC 6298's SRTT + 4·RTTVAR over
 * all contacts (on paths of 30-500 ms that mean-and-deviation prior was 0.3-1.3 s, far above what 90% of
 * answers take).
 */
export const RECENT_RTTS = 64;
const MIN_RECENT_RTTS = 3;

export class RecentRtts {
  private readonly ring: number[] = [];
  private next = 0;

  sample(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % RECENT_RTTS;
  }

  /** The q-quantile of the recent samples (of few, the largest), undefined before there are MIN_RECENT_RTTS. */
  quantile(q: number): number | undefined {
    if (this.ring.length < MIN_RECENT_RTTS) return undefined;
    const s = [...this.ring].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))];
  }
}
