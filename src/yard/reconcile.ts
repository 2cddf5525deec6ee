/**
 * What a (re)starting node does with the containers it finds. It lists only containers labelled with
 * its own node id (several nodes share one daemon in the testbed) and matches them to its records:
 *
 * - a record's own container (by id) is kept;
 * - a record without a known container adopts one carrying its name label (the node was killed between
 *   creating the container and recording its id), preferring a running one, then the newest;
 * - any other container with that name is a duplicate, and one whose name has no record is an orphan:
 *   both are removed, so nothing is left behind and nothing runs twice;
 * - a record marked `removing` (killed mid-rm) has its removal finished.
 *
 * The plan is pure so that every case is tested without Docker; yard.ts carries it out.
 */
import type { ContainerSummary } from "../engine/container-engine.ts";
import { LABELS } from "./container-spec.ts";
import type { IconRecord } from "./types.ts";

export interface ReconcilePlan {
  /** name → the container it keeps (undefined: none, start will create one). */
  keep: Map<string, ContainerSummary | undefined>;
  /** Containers to remove, with the reason for the log. */
  remove: { id: string; name: string; why: "orphan" | "duplicate" | "removing" }[];
  /** Records whose removal must be finished. */
  finishRemoval: string[];
}

export function planReconcile(records: IconRecord[], containers: ContainerSummary[]): ReconcilePlan {
  const byName = new Map<string, ContainerSummary[]>();
  for (const c of containers) {
    const name = c.labels[LABELS.name] ?? "";
    byName.set(name, [...(byName.get(name) ?? []), c]);
  }
  const plan: ReconcilePlan = { keep: new Map(), remove: [], finishRemoval: [] };
  const recorded = new Set<string>();
  for (const rec of records) {
    recorded.add(rec.name);
    const found = byName.get(rec.name) ?? [];
    if (rec.removing) {
      plan.finishRemoval.push(rec.name);
      for (const c of found) plan.remove.push({ id: c.id, name: rec.name, why: "removing" });
      continue;
    }
    const ranked = [...found].sort((a, b) => Number(b.status === "running") - Number(a.status === "running") || b.created - a.created);
    const keep = found.find((c) => c.id === rec.containerId) ?? ranked[0];
    plan.keep.set(rec.name, keep);
    for (const c of found) if (c !== keep) plan.remove.push({ id: c.id, name: rec.name, why: "duplicate" });
  }
  for (const [name, found] of byName)
    if (!recorded.has(name)) for (const c of found) plan.remove.push({ id: c.id, name, why: "orphan" });
  return plan;
}
