/**
 * The safety net for public-looking addresses (addressing.ts PUBLIC_V4, V6_PREFIX): they exist only
 * inside testbed namespaces, and while a testbed that uses them is up, the machine's own namespace
 * holds an `unreachable` route for each, so a mistake (a probe sent from the wrong namespace) fails
 * with EHOSTUNREACH instead of leaving the machine. The prefixes are in the state file before the
 * routes exist; `down` removes a route only when no other testbed's state still names it.
 */
import { existsSync } from "node:fs";
import { IconError } from "../errors.ts";
import { PUBLIC_V4, V6_PREFIX } from "./addressing.ts";
import type { Plan } from "./plan.ts";
import { run } from "../util/command.ts";
import { listTestbeds, readState } from "./state.ts";

/** The guarded prefixes a plan uses. */
export function guardsOf(plan: Plan): string[] {
  return [...(plan.homes?.length ? [PUBLIC_V4] : []), ...(plan.ipv6 ? [V6_PREFIX] : [])];
}

const route = (verb: string, prefix: string) => ["ip", ...(prefix.includes(":") ? ["-6"] : []), "route", verb, "unreachable", prefix];

export async function installGuards(prefixes: string[]): Promise<void> {
  for (const p of prefixes) {
    const r = await run(route("replace", p));
    // A kernel without IPv6 cannot send there either.
    if (r.code !== 0 && !(p.includes(":") && !existsSync("/proc/sys/net/ipv6")))
      throw new IconError("FAILED", `installing the guard route "unreachable ${p}" failed: ${r.stderr.trim()}`, "Run `icon testbed down` and try again as root.");
  }
}

/** Removes the guard routes of testbed `name` that no other testbed on record needs. */
export async function removeGuards(name: string, prefixes: string[]): Promise<string[]> {
  const needed = new Set<string>();
  for (const other of listTestbeds().filter((t) => t !== name))
    try {
      for (const p of readState(other)?.guards ?? []) needed.add(p);
    } catch {
      return []; // an unreadable state file might need them all: keep them
    }
  const removed: string[] = [];
  for (const p of prefixes.filter((p) => !needed.has(p)))
    if ((await run(route("del", p))).code === 0) removed.push(p);
  return removed;
}
