/**
 * An ICON's idle policy: a replica that served no client for policy.idleStopSec is paused (frozen with
 * its memory: the next client thaws it in tens of ms, the warm case), and stopped once it has been
 * paused for policy.pausedSec (DEFAULT_PAUSED_SEC; 0 stops it at once), then kept stopped for a hot
 * restart; one stopped for policy.idleRemoveSec is removed. It applies to replicas whose runtime reports
 * its clients (icon.clients(n)): the node cannot count them itself.
 */
import type { IconEntry } from "./entry.ts";

/** How long an idle replica stays paused by default: memory held for a client that comes back soon. */
export const DEFAULT_PAUSED_SEC = 600;

export interface IdleActions {
  pause: string[];
  stop: string[];
  remove: string[];
}

export function idleActions(entries: Iterable<IconEntry>, now: number): IdleActions {
  const out: IdleActions = { pause: [], stop: [], remove: [] };
  for (const e of entries) {
    const { role, policy } = e.rec;
    if (role !== "replica") continue;
    const pausedSec = policy.pausedSec ?? DEFAULT_PAUSED_SEC;
    if (e.state === "RUNNING" && e.clients === 0 && policy.idleStopSec !== undefined && now - e.busyAt >= policy.idleStopSec * 1000) (pausedSec > 0 ? out.pause : out.stop).push(e.name);
    else if (e.state === "PAUSED" && now - e.pausedAt >= pausedSec * 1000) out.stop.push(e.name);
    else if (e.state === "STOPPED" && policy.idleRemoveSec !== undefined && now - e.stoppedAt >= policy.idleRemoveSec * 1000) out.remove.push(e.name);
  }
  return out;
}
