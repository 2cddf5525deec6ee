/**
 * Waiting for ICMP answers without freezing Bun's event loop (a blocking poll would: DESIGN.md
 * "Traceroute facts"). The socket fds are checked with poll(2) and a zero timeout, and between checks
 * the trace sleeps on a timer, so other work (DHT, API) runs meanwhile.
 *
 * The sleep only delays when the trace *notices* an answer, never its RTT: every answer carries the
 * kernel's receive timestamp. Measured against a Worker blocking in ppoll, see README "Topology discovery".
 */
import { POLLERR, realtimeMs, type Libc } from "./libc.ts";

/** Between checks; Bun's timers fire about 1 ms apart at best. */
export const POLL_INTERVAL_MS = 1;

export class PollSet {
  private readonly memory: ArrayBuffer;
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  readonly count: number;

  constructor(fds: number[]) {
    this.count = fds.length;
    this.memory = new ArrayBuffer(Math.max(8, fds.length * 8));
    this.view = new DataView(this.memory);
    this.bytes = new Uint8Array(this.memory);
    fds.forEach((fd, i) => {
      this.view.setInt32(i * 8, fd, true);
      this.view.setInt16(i * 8 + 4, POLLERR, true); // POLLERR is always reported; asking for nothing else
    });
  }

  /** Indexes whose fd has something queued, without blocking. */
  ready(c: Libc): number[] {
    const n = c.poll(this.bytes, this.count, 0);
    if (n <= 0) return [];
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.view.getInt16(i * 8 + 6, true) !== 0) out.push(i);
    return out;
  }
}

/**
 * Resolves with the ready indexes as soon as one fd has something queued, or with [] at `untilMs`
 * (CLOCK_REALTIME ms) or when the signal aborts.
 */
export async function waitReady(c: Libc, set: PollSet, untilMs: number, signal?: AbortSignal): Promise<number[]> {
  for (;;) {
    const ready = set.ready(c);
    if (ready.length) return ready;
    const left = untilMs - realtimeMs(c);
    if (left <= 0 || signal?.aborted) return [];
    await Bun.sleep(Math.min(POLL_INTERVAL_MS, left));
  }
}
