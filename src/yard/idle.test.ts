import { describe, expect, test } from "bun:test";
import type { IconEntry } from "./entry.ts";
import { DEFAULT_PAUSED_SEC, idleActions } from "./idle.ts";
import type { IconRecord } from "./types.ts";

function entry(over: Partial<IconEntry> & { role?: "root" | "replica"; policy?: IconRecord["policy"] }): IconEntry {
  const { role = "replica", policy = { idleStopSec: 10, idleRemoveSec: 60 }, ...rest } = over;
  return { name: `i${Math.random()}`.slice(0, 8), state: "RUNNING", clients: 0, busyAt: 0, stoppedAt: 0, pausedAt: 0, rec: { role, policy } as IconRecord, ...rest } as unknown as IconEntry;
}

describe("idle policy", () => {
  test("a replica without clients past idleStopSec is paused; one with clients or not yet idle is not", () => {
    const idle = entry({ busyAt: 0 });
    const busy = entry({ clients: 2, busyAt: 0 });
    const recent = entry({ busyAt: 5_000 });
    expect(idleActions([idle, busy, recent], 10_000)).toEqual({ pause: [idle.name], stop: [], remove: [] });
  });

  test("with pausedSec 0 an idle replica is stopped at once, as before there was a warm case", () => {
    const idle = entry({ policy: { idleStopSec: 10, pausedSec: 0 } });
    expect(idleActions([idle], 10_000)).toEqual({ pause: [], stop: [idle.name], remove: [] });
  });

  test("a replica paused for pausedSec (DEFAULT_PAUSED_SEC when the policy says nothing) is stopped", () => {
    const own = entry({ state: "PAUSED", pausedAt: 0, policy: { idleStopSec: 10, pausedSec: 30 } });
    const byDefault = entry({ state: "PAUSED", pausedAt: 0 });
    expect(idleActions([own, byDefault], 30_000)).toEqual({ pause: [], stop: [own.name], remove: [] });
    expect(idleActions([own, byDefault], DEFAULT_PAUSED_SEC * 1000).stop).toEqual([own.name, byDefault.name]);
  });

  test("root ICONs, ICONs that never reported clients and ICONs without the policy are left alone", () => {
    const root = entry({ role: "root" });
    const silent = entry({ clients: undefined });
    const noPolicy = entry({ policy: {} });
    expect(idleActions([root, silent, noPolicy], 1e9)).toEqual({ pause: [], stop: [], remove: [] });
  });

  test("a replica stopped longer than idleRemoveSec is removed", () => {
    const old = entry({ state: "STOPPED", stoppedAt: 0 });
    const fresh = entry({ state: "STOPPED", stoppedAt: 30_000 });
    expect(idleActions([old, fresh], 60_000)).toEqual({ pause: [], stop: [], remove: [old.name] });
  });
});
