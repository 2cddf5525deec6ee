/**
 * How long a trace waits, derived from the RTTs it has already seen instead of the thesis's fixed
 * 1500 ms (3.1.1: "could be optimized to be more dynamic and take the other probe RTT:s into account").
 *
 * - A hop below one that answered should have answered before it (it is closer): it is overdue once the
 *   RTT of the nearest answering hop above it, plus slack, has passed since its probe left.
 * - A destination that stays silent is given up at 1.5 × the farthest hop's RTT + 5 ms: it is at least
 *   one link farther than that hop, and this keeps a silent trace under 2 × that RTT for RTTs ≥ 10 ms
 *   (the goal in issue 4), with a floor for paths of a few hundred microseconds and a cap.
 */

/** Slack for jitter: routers answer on their slow path and two cores run every namespace here. */
export const MIN_SLACK_MS = 2;
export const SLACK_FRACTION = 0.25;
export const SILENT_FACTOR = 1.5;
export const SILENT_MARGIN_MS = 5;
/** No trace gives up on a silent destination sooner than this. */
export const SILENT_FLOOR_MS = 10;

export function slackMs(refRttMs: number): number {
  return Math.max(MIN_SLACK_MS, refRttMs * SLACK_FRACTION);
}

/** Time after its probe left at which a hop whose neighbour above answered in `refRttMs` is overdue. */
export function overdueAfterMs(refRttMs: number): number {
  return refRttMs + slackMs(refRttMs);
}

/**
 * How long after the first probe a destination that has not answered is given up; with no answer at
 * all there is nothing to derive from, and the trace waits the cap.
 */
export function silentWaitMs(farthestRttMs: number | undefined, capMs: number): number {
  if (farthestRttMs === undefined) return capMs;
  return Math.min(capMs, Math.max(SILENT_FLOOR_MS, SILENT_FACTOR * farthestRttMs + SILENT_MARGIN_MS));
}
