/**
 * Round-trip time estimation per RFC 6298 (SRTT/RTTVAR, RTO = SRTT + 4·RTTVAR). Every RPC reply gives an
 * unambiguous sample because each retransmission carries a new request id (Karn's problem cannot arise).
 */
import { INITIAL_RTO_MS, MAX_RTO_MS, MIN_RTO_MS } from "./constants.ts";

export class RttEstimator {
  srtt: number | undefined;
  rttvar = 0;
  samples = 0;

  sample(ms: number): void {
    const r = Math.max(0, ms);
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.samples++;
  }

  /** The retransmission timeout; without samples, the prior's (the estimate over all contacts) or 1 s. */
  rto(prior?: RttEstimator): number {
    if (this.srtt === undefined) return prior && prior !== this ? prior.rto() : INITIAL_RTO_MS;
    return clampRto(this.srtt + 4 * this.rttvar);
  }
}

function clampRto(ms: number): number {
  return Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, ms));
}
