import { describe, expect, test } from "bun:test";
import type { IconEntry } from "./entry.ts";
import { idleActions } from "./idle.ts";
import type { IconRecord } from "./types.ts";

function entry(over: Partial<IconEntry> & { role?: "root" | "replica"; policy?: IconRecord["policy"] }): IconEntry {
  const { role = "replica", policy = { idleStopSec: 10, idleRemoveSec: 60 }, ...rest } = over;
  return { name: `i${Math.random()}`.slice(0, 8), state: "RUNNING", clients: 0, busyAt: 0, stoppedAt: 0, rec: { role, policy } as IconRecord, ...rest } as unknown as IconEntry;
}

describe("idle policy", () => {
  test("a replica without clients past idleStopSec is stopped; one with clients or not yet idle is not", () => {
    const idle = entry({ busyAt: 0 });
    const busy = entry({ clients: 2, busyAt: 0 });
    const recent = entry({ busyAt: 5_000 });
    expect(idleActions([idle, busy, recent], 10_000)).toEqual({ stop: [idle.name], remove: [] });
  });

  test("root ICONs, ICONs that never reported clients and ICONs without the policy are left alone", () => {
    const root = entry({ role: "root" });
    const silent = entry({ clients: undefined });
    const noPolicy = entry({ policy: {} });
    expect(idleActions([root, silent, noPolicy], 1e9)).toEqual({ stop: [], remove: [] });
  });

  test("a replica stopped longer than idleRemoveSec is removed", () => {
    const old = entry({ state: "STOPPED", stoppedAt: 0 });
    const fresh = entry({ state: "STOPPED", stoppedAt: 30_000 });
    expect(idleActions([old, fresh], 60_000)).toEqual({ stop: [], remove: [old.name] });
  });
});
