/**
 * Finding 6, "ICONs reach the home": code inside an ICON connects to what sits around the node: the
 * host itself (its addresses, the gateway the ICON sees), the home LAN, a cloud metadata address
 * (169.254.169.254), the operator's own containers, another ICON. Every target the node should keep out
 * of reach that answers counts against it; targets the node's egress policy allows (the public side)
 * are tried too and reported apart. `rounds` repeats every attempt (the bench's rate).
 */
import type { NodeClient } from "../../api/client.ts";
import { reached, runProbe, type ProbeReport, type ProbeTarget } from "./probe-icon.ts";

export interface ReachAttack {
  image: string;
  name: string;
  /** Targets the ICON must not reach. */
  forbidden: ProbeTarget[];
  /** Targets the node's policy lets it reach (the public side with iconEgress internet). */
  allowed?: ProbeTarget[];
  rounds?: number;
}

export interface ReachOutcome {
  /** contained: no forbidden target answered; succeeded: at least one did. */
  outcome: "contained" | "succeeded";
  /** Forbidden targets that answered at least once. */
  reachedForbidden: string[];
  /** Allowed targets that answered every time. */
  reachedAllowed: string[];
  report: ProbeReport;
}

export async function reachFromIcon(api: NodeClient, a: ReachAttack): Promise<ReachOutcome> {
  const report = await runProbe(api, { name: a.name, image: a.image, targets: [...a.forbidden, ...(a.allowed ?? [])], rounds: a.rounds });
  return { ...judgeReach(report, a.forbidden, a.allowed), report };
}

/** Which targets a probe ICON reached (the bench judges replicas it had run the same way). */
export function judgeReach(report: ProbeReport, forbidden: ProbeTarget[], allowed: ProbeTarget[] = []): Omit<ReachOutcome, "report"> {
  const ends = (t: ProbeTarget) => report.probes[t.name] ?? [];
  const reachedForbidden = forbidden.filter((t) => ends(t).some(reached)).map((t) => t.name);
  const reachedAllowed = allowed.filter((t) => ends(t).length > 0 && ends(t).every(reached)).map((t) => t.name);
  return { outcome: reachedForbidden.length ? "succeeded" : "contained", reachedForbidden, reachedAllowed };
}
