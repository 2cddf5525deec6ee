/**
 * Numeric flags, parsed and checked one way for every command: absent gives the default, anything
 * else must be a number within the command's bounds, or a USAGE error names the flag and what it takes.
 */
import { IconError } from "../errors.ts";

export interface NumberRule {
  /** Whole numbers only. */
  int?: boolean;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
}

/** What a rule accepts, in words: "a whole number from 1 to 64". */
function accepted(r: NumberRule): string {
  const kind = r.int ? "a whole number" : "a number";
  if (r.min !== undefined && r.max !== undefined) return `${kind} from ${r.min} to ${r.max}`;
  if (r.min !== undefined && r.below !== undefined) return `${kind} from ${r.min} to below ${r.below}`;
  if (r.min !== undefined) return `${kind} of at least ${r.min}`;
  if (r.above !== undefined) return `${kind} above ${r.above}`;
  return kind;
}

function fits(n: number, r: NumberRule): boolean {
  return Number.isFinite(n) && (!r.int || Number.isInteger(n)) &&
    (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max) &&
    (r.above === undefined || n > r.above) && (r.below === undefined || n < r.below);
}

/** The flag's value, or undefined when it was not given. */
export function optionalNumberFlag(values: Record<string, unknown>, flag: string, rule: NumberRule = {}): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !fits(n, rule)) {
    const name = flag.length === 1 ? `-${flag}` : `--${flag}`;
    throw new IconError("USAGE", `${name} ${String(raw)} is not ${accepted(rule)}`, `Give ${name} ${accepted(rule)}.`);
  }
  return n;
}

/** The flag's value, or `fallback` when it was not given. */
export function numberFlag(values: Record<string, unknown>, flag: string, fallback: number, rule: NumberRule = {}): number {
  return optionalNumberFlag(values, flag, rule) ?? fallback;
}

/** A flag that takes one of a few words; `fallback` when it was not given. */
export function choiceFlag<T extends string>(values: Record<string, unknown>, flag: string, choices: readonly T[], fallback: T): T {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  if (typeof raw === "string" && (choices as readonly string[]).includes(raw)) return raw as T;
  const list = `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
  throw new IconError("USAGE", `--${flag} ${String(raw)}: expected ${list}`, `Give --${flag} ${list}.`);
}
