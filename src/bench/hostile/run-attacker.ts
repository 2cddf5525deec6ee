/**
 * The attacker of `icon bench hostile`, inside the attacker host's namespace: every attack in turn against
 * the nodes it fits, round after round, until told to stop (and at least one whole round). Each attack
 * and node gets a tally: how often the node refused, contained or let the attack succeed, the worst of
 * them, and the detail of the run that set it.
 */
import { toIconError } from "../../errors.ts";
import type { AttackReport, Outcome } from "./report.ts";
import { worse, type BenchAttack } from "./run-attack.ts";
import { ADMISSION_BENCH_ATTACKS } from "./run-attacks-admission.ts";
import { DHT_ATTACKS } from "./run-attacks-dht.ts";
import { ICON_ATTACKS } from "./run-attacks-icon.ts";
import { IMAGE_BENCH_ATTACKS } from "./run-attacks-image.ts";
import { PEER_ATTACKS } from "./run-attacks-peer.ts";
import { AttackContext } from "./run-context.ts";
import type { AttackerSpec, Role } from "./run-spec.ts";

/** In this order: the probe ICONs before the floods that fill the origin's replica quota. */
export const ATTACKS: readonly BenchAttack[] = [...ICON_ATTACKS, ...IMAGE_BENCH_ATTACKS, ...DHT_ATTACKS, ...PEER_ATTACKS, ...ADMISSION_BENCH_ATTACKS];

export interface AttackTally {
  finding: number;
  attack: string;
  target: Role;
  /** "every round", or "once" and why. */
  rate: string;
  /** The worst outcome of any run; absent when no run got as far as an answer. */
  outcome?: Outcome;
  runs: number;
  /** Of the runs, those after the honest phase (no run during it got a judgement: a restart came between). */
  lateRuns?: number;
  refused: number;
  contained: number;
  succeeded: number;
  errors: number;
  /** The detail of the latest run with the worst outcome. */
  detail: AttackReport["detail"];
  /** The latest error, or why the attack was not run. */
  error?: string;
  skipped?: string;
  /** The known gap it shows (BenchAttack.gap). */
  gap?: string;
}

export type AttackerEvent =
  | { type: "ready"; attacks: number }
  | { type: "attack"; round: number; attack: string; target: Role; outcomes: string; ms: number }
  | { type: "round"; round: number }
  | { type: "tally"; tally: AttackTally };

/** The longest one run may take before it counts as an error (the probe ICONs start four containers). */
const limitMs = (a: BenchAttack) => (a.once ? 600_000 : 180_000);

function timeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: Timer | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(timer));
}

export async function runAttacker(spec: AttackerSpec, emit: (e: AttackerEvent) => void, stop: Promise<unknown>): Promise<AttackTally[]> {
  const ctx = new AttackContext(spec);
  const list = ATTACKS.filter((a) => !spec.only?.length || spec.only.includes(a.name));
  const tallies = new Map<string, AttackTally>();
  /** "attack@role" of the runs that got an answer judged. */
  const judged = new Set<string>();
  const tally = (a: BenchAttack, role: Role, finding: number, attack: string): AttackTally => {
    const key = `${attack}@${role}`;
    let t = tallies.get(key);
    if (!t) tallies.set(key, (t = { finding, attack, target: role, rate: a.once ? `once: ${a.once}` : "every round", runs: 0, refused: 0, contained: 0, succeeded: 0, errors: 0, detail: {}, ...(a.gap ? { gap: a.gap } : {}) }));
    return t;
  };
  let stopping = false;
  void stop.then(() => (stopping = true));

  /** One run of `a` at `role`, tallied; `late`: after the honest phase. */
  const attack = async (a: BenchAttack, role: Role, round: number, late = false): Promise<void> => {
    const skipped = a.skip?.(ctx);
    if (skipped) {
      tally(a, role, a.finding, a.name).skipped = skipped;
      return;
    }
    const t0 = performance.now();
    let outcomes: string;
    try {
      const target = ctx.target(role);
      const pid = await ctx.pidOf(target);
      const got = await timeout(a.run(ctx, target), limitMs(a));
      // What a node held or believed is gone with its process: a run across a restart says nothing.
      if ((await ctx.pidOf(target)) !== pid) throw new Error(`the ${role} restarted during the attack (a hot or cold sample's preparation): not judged`);
      const reports = Array.isArray(got) ? got : [{ ...got, attack: a.name }];
      for (const r of reports) {
        const t = tally(a, role, r.finding, r.attack);
        t.runs++;
        t[r.outcome]++;
        if (late) t.lateRuns = (t.lateRuns ?? 0) + 1;
        if (worse(t.outcome, r.outcome) !== t.outcome || r.outcome === t.outcome) t.detail = r.detail;
        t.outcome = worse(t.outcome, r.outcome);
      }
      judged.add(`${a.name}@${role}`);
      outcomes = reports.map((r) => (reports.length > 1 ? `${r.attack}: ${r.outcome}` : r.outcome)).join("; ");
    } catch (e) {
      const t = tally(a, role, a.finding, a.name);
      t.errors++;
      t.error = toIconError(e).message;
      outcomes = `error: ${t.error}`;
    }
    emit({ type: "attack", round, attack: a.name, target: role, outcomes, ms: Math.round(performance.now() - t0) });
  };

  emit({ type: "ready", attacks: list.length });
  try {
    let round = 1;
    for (; ; round++) {
      ctx.round = round;
      let whole = true;
      for (const a of list) {
        if (a.once && round > 1) continue;
        for (const role of a.at) await attack(a, role, round);
        // Once a whole round is done, a stop ends the run after the attack under way.
        if (stopping && round > 1) {
          whole = a === list.at(-1);
          break;
        }
      }
      // "round": every attack of it ran.
      if (whole) emit({ type: "round", round });
      if (stopping || (spec.rounds && round >= spec.rounds)) break;
    }
    // The edge restarts before every hot and cold sample, so a longer attack on it seldom ends on the
    // process it began with: what no run could judge while the clients migrated runs once more now.
    ctx.round = ++round;
    for (const a of list) for (const role of a.at) if (!judged.has(`${a.name}@${role}`)) await attack(a, role, round, true);
  } finally {
    for (const v of ctx.kept.values()) if (v && typeof (v as { close?: unknown }).close === "function") (v as { close(): void }).close();
  }
  // An attack that reports under other names (the probe ICONs) keeps no row of its own once one of its runs was judged.
  const out = [...tallies.values()].filter((t) => t.runs || !judged.has(`${t.attack}@${t.target}`)).sort((x, y) => x.finding - y.finding);
  for (const t of out) emit({ type: "tally", tally: t });
  return out;
}
