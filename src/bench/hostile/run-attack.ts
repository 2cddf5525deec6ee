/**
 * One attack as `icon bench hostile` runs it: the finding, which nodes it goes at, how often (every round
 * at full rate, or once as its hostile test does, and why), and the function that performs it through the
 * attack modules of this folder and judges the node's answer as an AttackReport.
 */
import type { AttackContext } from "./run-context.ts";
import type { AttackReport, Outcome } from "./report.ts";
import type { AttackOutcome } from "./image-peer.ts";
import type { HostileTarget, Role } from "./run-spec.ts";

export interface BenchAttack {
  name: string;
  finding: number;
  at: Role[];
  /** Set when the attack runs in the first round only: why that is its full rate. */
  once?: string;
  /** A gap docs/threat-model.md names, that this attack shows: its success is known, not a regression. */
  gap?: string;
  /** Why the attack cannot run on this bench's nodes, if it cannot. */
  skip?(ctx: AttackContext): string | undefined;
  /** One report, named after the attack; or several, each under its own name (one run that tries several things). */
  run(ctx: AttackContext, t: HostileTarget): Promise<AttackReport | AttackReport[]>;
}

const RANK: Record<Outcome, number> = { refused: 0, contained: 1, succeeded: 2 };

/** The worse of two outcomes for the node: succeeded over contained over refused. */
export function worse(a: Outcome | undefined, b: Outcome): Outcome {
  return a === undefined || RANK[b] > RANK[a] ? b : a;
}

/** The per-attempt tally of the image attacks as one report: the worst attempt decides. */
export function fromAttempts(o: AttackOutcome): AttackReport {
  const outcome: Outcome = o.succeeded ? "succeeded" : o.contained ? "contained" : "refused";
  const last = o.detail.findLast((d) => d.startsWith(`${outcome}:`)) ?? o.detail.at(-1) ?? "";
  return { finding: o.finding, attack: o.attack, outcome, detail: { attempts: o.attempts, refused: o.refused, contained: o.contained, succeeded: o.succeeded, example: last } };
}

/** Runs `f` with whatever `make` opens, closing it afterwards. */
export async function using<T extends { close(): unknown } | { stop(): unknown }, R>(make: Promise<T>, f: (x: T) => Promise<R>): Promise<R> {
  const x = await make;
  try {
    return await f(x);
  } finally {
    await ("close" in x ? x.close() : x.stop());
  }
}
