import { describe, expect, test } from "bun:test";
import { LookupCache } from "./lookup-cache.ts";
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

  test("a failed lookup answers [] (or the last answer) and is tried again next time", async () => {
    let fail = true;
    const flaky: Directory = { nodeId: "a", onAddress: () => () => {}, announce: async () => {}, withdraw: () => {}, measure: async () => undefined, lookup: async () => {
      if (fail) throw new Error("timeout");
      return [];
    } };
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
