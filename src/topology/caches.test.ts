import { describe, expect, test } from "bun:test";
import { LookupCache, REFRESH_AFTER_MS, REFRESH_EMPTY_AFTER_MS } from "./lookup-cache.ts";
import { MemoryDirectoryHub } from "./memory-directory.ts";
import { TraceCache } from "./trace-cache.ts";
import type { Directory } from "./directory.ts";
import type { TraceResult } from "./trace/types.ts";

const result = (destination: string): TraceResult => ({ destination, reached: true, elapsedMs: 1, hops: [], ended: "complete", startedAt: 0 });

describe("TraceCache", () => {
  test("one trace serves the whole /24 until it ages out", async () => {
    let clock = 0;
    const cache = new TraceCache({ clientPrefix: 24, ttlMs: 1000, now: () => clock });
    let runs = 0;
    const run = async () => (runs++, result("198.51.100.7"));
    const first = cache.get("198.51.100.7", run);
    expect(first).toMatchObject({ cached: false, started: true });
    await first.trace;
    const again = cache.get("198.51.100.200", run);
    expect(again.cached).toBe(true);
    expect((await again.trace).destination).toBe("198.51.100.7");
    expect(cache.get("198.51.101.1", run).started).toBe(true); // another /24
    clock = 1000;
    expect(cache.fresh("198.51.100.7")).toBeUndefined();
    expect(cache.previous("198.51.100.9")?.destination).toBe("198.51.100.7"); // still a prior
    expect(cache.get("198.51.100.7", run).started).toBe(true);
    expect(runs).toBe(3);
  });

  test("a trace in flight is shared, and a failed one is not cached", async () => {
    const cache = new TraceCache({ clientPrefix: 24, ttlMs: 1000 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const a = cache.get("203.0.113.1", async () => (runs++, await gate, result("203.0.113.1")));
    const b = cache.get("203.0.113.2", async () => (runs++, result("x")));
    expect(b).toMatchObject({ cached: false, started: false });
    release();
    expect((await b.trace).destination).toBe("203.0.113.1");
    await a.trace;
    const bad = cache.get("192.0.2.1", async () => {
      throw new Error("boom");
    });
    await expect(bad.trace).rejects.toThrow("boom");
    expect(cache.pending("192.0.2.1")).toBeUndefined();
    expect(cache.get("192.0.2.1", async () => result("192.0.2.1")).started).toBe(true);
    expect(runs).toBe(1);
  });

  test("bounded: the oldest prefix goes first", async () => {
    const cache = new TraceCache({ clientPrefix: 24, ttlMs: 1000, max: 2 });
    for (const ip of ["10.0.1.1", "10.0.2.1", "10.0.3.1"]) await cache.get(ip, async () => result(ip)).trace;
    expect(cache.size).toBe(2);
    expect(cache.fresh("10.0.1.1")).toBeUndefined();
    expect(cache.traces().map((t) => t.prefix)).toEqual(["10.0.3.0/24", "10.0.2.0/24"]);
  });
});

/** A directory that only looks up (and may answer from a local store). */
function directory(lookup: Directory["lookup"], localLookup?: Directory["localLookup"]): Directory {
  return { nodeId: "a", onAddress: () => () => {}, announce: async () => {}, withdraw: () => {}, measure: async () => undefined, lookup, ...(localLookup ? { localLookup } : {}) };
}

describe("LookupCache", () => {
  const hub = new MemoryDirectoryHub();
  const dir = hub.node({ nodeId: "a", address: "192.0.2.1" });

  test("caches, shares in-flight lookups, refreshes in the background after half its life", async () => {
    let clock = 0;
    hub.now = () => clock;
    hub.lookups = 0;
    await dir.announce("10.0.2.0/29", { rttMs: 12, hops: 2, timestamp: 0 }, 100_000);
    const cache = new LookupCache(dir, { ttlMs: 1000, now: () => clock });
    const [x, y] = await Promise.all([cache.get("10.0.2.0/29"), cache.get("10.0.2.0/29")]);
    expect(x).toEqual(y);
    expect(hub.lookups).toBe(1);
    expect(cache.isFresh("10.0.2.0/29")).toBe(true);
    clock = 600; // past half: answered from the cache, refreshed behind it
    expect((await cache.get("10.0.2.0/29"))[0]!.rttMs).toBe(12);
    expect(hub.lookups).toBe(2);
    clock = 1500;
    expect(cache.isFresh("10.0.2.0/29")).toBe(true); // the refresh at 600 restarted its life
    clock = 1700;
    expect(cache.isFresh("10.0.2.0/29")).toBe(false);
  });

  test("what the local store answers is never cached: a node that announced since is there at once", async () => {
    const held = new Map<string, { nodeId: string; rttMs: number }[]>([["10.0.3.0/29", []]]);
    let remote = 0;
    const holder = directory(async () => (remote++, []), (r) => held.get(r) as never);
    const cache = new LookupCache(holder, { ttlMs: 60_000, now: () => 0 });
    expect(await cache.get("10.0.3.0/29")).toEqual([]);
    held.set("10.0.3.0/29", [{ nodeId: "edge", rttMs: 3 }]); // an announcement was stored here meanwhile
    expect((await cache.get("10.0.3.0/29")).map((a) => a.nodeId)).toEqual(["edge"]);
    expect(cache.isFresh("10.0.3.0/29")).toBe(true);
    expect(remote).toBe(0);
    expect(await cache.get("10.0.4.0/29")).toEqual([]); // not held here: looked up, and cached
    expect(remote).toBe(1);
  });

  test("a remote answer is refreshed behind the reply after 5 s, an empty one after 1 s, even with a 60 s life", async () => {
    let clock = 0;
    let answers: Record<string, { nodeId: string }[]> = { full: [{ nodeId: "x" }], empty: [] };
    let remote = 0;
    const far = directory(async (r) => (remote++, answers[r]! as never));
    const cache = new LookupCache(far, { ttlMs: 60_000, now: () => clock });
    await Promise.all([cache.get("full"), cache.get("empty")]);
    expect(remote).toBe(2);
    answers = { full: [{ nodeId: "x" }, { nodeId: "new" }], empty: [{ nodeId: "new" }] };
    clock = REFRESH_EMPTY_AFTER_MS;
    expect(await cache.get("empty")).toEqual([]); // answered at once, refreshed behind it...
    expect(await cache.get("full")).toHaveLength(1); // ...the non-empty one not yet
    expect(remote).toBe(3);
    await Bun.sleep(0);
    expect((await cache.get("empty")).map((a) => a.nodeId)).toEqual(["new"]);
    clock = REFRESH_AFTER_MS;
    await cache.get("full");
    await Bun.sleep(0);
    expect(await cache.get("full")).toHaveLength(2);
    expect(remote).toBe(4);
  });

  test("a failed lookup answers [] (or the last answer) and is tried again next time", async () => {
    let fail = true;
    const flaky = directory(async () => {
      if (fail) throw new Error("timeout");
      return [];
    });
    const errors: string[] = [];
    const cache = new LookupCache(flaky, { ttlMs: 1000, onError: (r) => errors.push(r) });
    expect(await cache.get("10.0.9.0/29")).toEqual([]);
    expect(cache.isFresh("10.0.9.0/29")).toBe(false);
    fail = false;
    await cache.get("10.0.9.0/29");
    expect(cache.isFresh("10.0.9.0/29")).toBe(true);
    expect(errors).toEqual(["10.0.9.0/29"]);
  });
});
