/**
 * Finding 3 (no admission or quotas on replicate): one key, or many fresh ones, asks a node for replica
 * after replica, each under another ICON name so that each is a new replica. Without quotas the node
 * runs whatever it is asked until its port range is gone; with an image that fails at once, every
 * failure used to keep its port, so a few hundred cheap requests shut the node out of hosting.
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import type { ImageRef } from "../../peer/ops.ts";
import type { Outcome, ReplicateAttacker } from "./replicate-attacker.ts";

export interface FloodOptions {
  image: ImageRef;
  count: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** ICON names are PREFIX-0, PREFIX-1, ... */
  prefix?: string;
  env?: Record<string, string>;
}

export interface FloodResult {
  sent: number;
  /** Replicas the target answered as running. */
  ran: number;
  /** Refusals and failures, by error code. */
  refused: Record<string, number>;
  ms: number;
}

export async function replicateFlood(attacker: ReplicateAttacker, target: PeerEndpoint, o: FloodOptions): Promise<FloodResult> {
  const t0 = performance.now();
  const out: FloodResult = { sent: 0, ran: 0, refused: {}, ms: 0 };
  let next = 0;
  const worker = async () => {
    while (next < o.count) {
      const i = next++;
      out.sent++;
      const a = await attacker.replicate(target, { icon: `${o.prefix ?? "flood"}-${i}`, image: o.image, env: o.env });
      if (a.ok) out.ran++;
      else out.refused[a.code] = (out.refused[a.code] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 4, o.count) }, worker));
  out.ms = Math.round(performance.now() - t0);
  return out;
}

/** Refused when nothing ran, contained when no more ran than the quota that applies (`cap`), else succeeded. */
export function floodOutcome(r: FloodResult, cap: number): Outcome {
  return r.ran === 0 ? "refused" : r.ran <= cap ? "contained" : "succeeded";
}
