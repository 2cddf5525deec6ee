/**
 * An ICON's idle policy: a replica that served no client for policy.idleStopSec is stopped,
 * and kept stopped for a fast hot restart; one stopped for policy.idleRemoveSec is removed. It applies
 * to replicas whose runtime reports its clients (icon.clients(n)): the node cannot count them itself.
 */
import type { IconEntry } from "./entry.ts";

export interface IdleActions {
  stop: string[];
  remove: string[];
}

export function idleActions(entries: Iterable<IconEntry>, now: number): IdleActions {
  const out: IdleActions = { stop: [], remove: [] };
  for (const e of entries) {
    const { role, policy } = e.rec;
    if (role !== "replica") continue;
    if (e.state === "RUNNING" && e.clients === 0 && policy.idleStopSec !== undefined && now - e.busyAt >= policy.idleStopSec * 1000) out.stop.push(e.name);
    else if (e.state === "STOPPED" && policy.idleRemoveSec !== undefined && now - e.stoppedAt >= policy.idleRemoveSec * 1000) out.remove.push(e.name);
  }
  return out;
}
