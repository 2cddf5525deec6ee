import { describe, expect, test } from "bun:test";
import { significantChange, TopologyMap } from "./map.ts";
import type { TraceResult } from "./trace/types.ts";

function trace(destination: string, hops: [string, number][], reached = true): TraceResult {
  return {
    destination, reached, elapsedMs: 0, ended: "complete", startedAt: 0,
    hops: hops.map(([address, rttMs], i) => ({ ttl: i + 1, address, rttMs, kind: reached && i === hops.length - 1 ? "destination" : "router" })),
  };
}

describe("TopologyMap", () => {
  let clock = 0;
  const newMap = () => new TopologyMap({ routerMask: 29, sampleWindowMs: 1000, now: () => clock });

  test("keeps routers by /29 with RTT and hops, not the destination", () => {
    clock = 0;
    const m = newMap();
    const changed = m.addTrace(trace("10.0.9.2", [["10.0.1.1", 2], ["10.0.2.1", 12], ["10.0.9.2", 14]]));
    expect(changed).toEqual(["10.0.1.0/29", "10.0.2.0/29"]);
    expect(m.routers().map((r) => [r.routerId, r.rttMs, r.hops])).toEqual([["10.0.1.0/29", 2, 1], ["10.0.2.0/29", 12, 2]]);
    expect(m.get("10.0.2.0/29")).toMatchObject({ address: "10.0.2.1", via: "10.0.9.2" });
  });

  test("the other interface of a router maps to the same entry", () => {
    clock = 0;
    const m = newMap();
    m.addTrace(trace("10.0.9.2", [["10.0.2.1", 12], ["10.0.9.2", 14]]));
    expect(m.addTrace(trace("10.0.8.2", [["10.0.2.3", 12.2], ["10.0.8.2", 20]]))).toEqual([]);
    expect(m.size).toBe(1);
    expect(m.get("10.0.2.0/29")!.address).toBe("10.0.2.3");
  });

  test("the RTT is the windowed minimum; a big change is reported, jitter is not", () => {
    clock = 0;
    const m = newMap();
    m.addTrace(trace("d", [["10.0.2.1", 12]], false));
    clock = 100;
    expect(m.addTrace(trace("d", [["10.0.2.1", 12.5]], false))).toEqual([]); // queueing: min stays 12
    expect(m.get("10.0.2.0/29")!.rttMs).toBe(12);
    clock = 200;
    expect(m.addTrace(trace("d", [["10.0.2.1", 5]], false))).toEqual(["10.0.2.0/29"]); // route got shorter
    expect(m.get("10.0.2.0/29")!.rttMs).toBe(5);
    clock = 2000; // the 5 ms sample left the window: the route got longer again
    expect(m.addTrace(trace("d", [["10.0.2.1", 30]], false))).toEqual(["10.0.2.0/29"]);
    expect(m.get("10.0.2.0/29")!.rttMs).toBe(30);
  });

  test("silent hops and unreachables are not routers", () => {
    clock = 0;
    const m = newMap();
    const t = trace("d", [["10.0.1.1", 1]], false);
    t.hops.push({ ttl: 2, kind: "silent" }, { ttl: 3, address: "10.0.3.1", rttMs: 3, kind: "unreachable" });
    m.addTrace(t);
    expect(m.routers().map((r) => r.routerId)).toEqual(["10.0.1.0/29"]);
  });

  test("routers no trace passed lately expire", () => {
    clock = 0;
    const m = newMap();
    m.addTrace(trace("d", [["10.0.1.1", 1]], false));
    clock = 500;
    m.addTrace(trace("e", [["10.0.2.1", 1]], false));
    expect(m.expire(100)).toEqual(["10.0.1.0/29"]);
    expect(m.routers().map((r) => r.routerId)).toEqual(["10.0.2.0/29"]);
  });

  test("significant change: over 10% and over 1 ms", () => {
    expect(significantChange(100, 109)).toBe(false);
    expect(significantChange(100, 111)).toBe(true);
    expect(significantChange(2, 2.9)).toBe(false);
    expect(significantChange(2, 3.1)).toBe(true);
  });
});
