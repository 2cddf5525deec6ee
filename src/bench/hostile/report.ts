/**
 * What one attack of "safe to run at home" did to its target: the hostile tests assert it once, `icon bench
 * hostile` reports it at full rate. Every attack module (DHT, peer port, replicate) reports this shape.
 */
/** refused: nothing got through; contained: some did, within the limits set for it; succeeded: the attack worked. */
export type Outcome = "refused" | "contained" | "succeeded";

export interface AttackReport {
  /** The finding of the issue the attack belongs to (1-14, the numbering of docs/threat-model.md's history). */
  finding: number;
  attack: string;
  outcome: Outcome;
  detail: Record<string, number | string | boolean>;
}
