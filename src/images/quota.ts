/**
 * Image bytes per peer and per hour, one quota each way: what this node serves to a peer, and what it
 * accepts from one (a peer can make it fetch by offering or replicating). A transfer reserves its
 * declared size before its first byte, so a refusal costs nothing but the answer.
 */
import { IconError } from "../errors.ts";
import { realClock, type Clock } from "../util/clock.ts";

const HOUR_MS = 3600_000;
/** Peers tracked at once; the oldest windows go first (a new id only ever gets a fresh quota of its own). */
const MAX_PEERS = 4096;

export class ByteQuota {
  private readonly windows = new Map<string, { start: number; used: number }>();
  private refused = 0;
  private bytes = 0;

  constructor(
    /** Bytes per peer per hour; 0 = no limit. */
    private readonly perHour: number,
    /** "served to" or "accepted from", for messages. */
    private readonly direction: string,
    private readonly clock: Clock = realClock,
  ) {}

  /** Counts `bytes` against `peer`'s hour, or throws QUOTA (and counts nothing) when they do not fit. */
  take(peer: string, bytes: number): void {
    const now = this.clock.now();
    let w = this.windows.get(peer);
    if (!w || now - w.start >= HOUR_MS) {
      this.windows.delete(peer);
      w = { start: now, used: 0 };
      this.windows.set(peer, w);
      for (const k of this.windows.keys()) {
        if (this.windows.size <= MAX_PEERS) break;
        this.windows.delete(k);
      }
    }
    if (this.perHour && w.used + bytes > this.perHour) {
      this.refused++;
      const wait = Math.ceil((w.start + HOUR_MS - now) / 60_000);
      throw new IconError("QUOTA", `${bytes} image bytes ${this.direction} node ${peer.slice(0, 8)} would exceed its quota of ${this.perHour} per hour (${w.used} used)`, `Wait about ${wait} min, or raise the quota on that node.`);
    }
    w.used += bytes;
    this.bytes += bytes;
  }

  status() {
    return { perHour: this.perHour, bytes: this.bytes, refused: this.refused, peers: this.windows.size };
  }
}
