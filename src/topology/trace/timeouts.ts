/**
 * How long a trace waits, derived from the RTTs it has already seen instead of the thesis's fixed
 * 1500 ms (3.1.1: "could be optimized to be more dynamic and take the other probe RTT:s into account").
 *
 * - A hop below one that answered should have answered before it (it is closer): it is overdue once the
 *   RTT of the nearest answering hop above it, plus slack, has passed since its probe left.
 * - Beyond the farthest hop that answered, silence is ambiguous: the destination may drop probes, or the
 *   next router may simply be far (on the thesis network the hop after r6 answers 40 ms after it). The
 *   trace waits 1.5 × that hop's RTT + 5 ms, and at least a next link's worth (NEXT_LINK_MS) more. On
 *   paths of 50 ms and more a silent trace thus ends within 2 × the last hop's RTT (the goal);
 *   on shorter paths the allowance for a far next hop dominates.
 */

/** Slack for jitter: routers answer on their slow path and two cores run every namespace here. */
export const MIN_SLACK_MS = 2;
export const SLACK_FRACTION = 0.25;
export const SILENT_FACTOR = 1.5;
export const SILENT_MARGIN_MS = 5;
/**
 * The RTT one more link may add: 80 ms covers the largest single-hop steps of terrestrial paths (an
 * ocean crossing, about 75 ms) and, on the thesis network, the 40 ms r6→r5 step twice over (measured
 * under load: an answer 10 ms late there cut a trace short with a 50 ms allowance).
 */
export const NEXT_LINK_MS = 80;

export function slackMs(refRttMs: number): number {
  return Math.max(MIN_SLACK_MS, refRttMs * SLACK_FRACTION);
}

/** Time after its probe left at which a hop whose neighbour above answered in `refRttMs` is overdue. */
export function overdueAfterMs(refRttMs: number): number {
  return refRttMs + slackMs(refRttMs);
}

/**
 * How long after the first probe a destination that has not answered is given up, from the farthest
 * answering hop's RTT; with no answer at all there is nothing to derive from, and the trace waits the cap.
 */
export function silentWaitMs(farthestRttMs: number | undefined, capMs: number): number {
  if (farthestRttMs === undefined) return capMs;
  return Math.min(capMs, Math.max(SILENT_FACTOR * farthestRttMs + SILENT_MARGIN_MS, farthestRttMs + NEXT_LINK_MS));
}
