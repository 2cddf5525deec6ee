import { describe, expect, test } from "bun:test";
import { TraceState, type Answer } from "./trace-state.ts";
import { priorOf } from "./types.ts";

const router = (address: string, rttMs: number, retried = false): Answer => ({ address, kind: "router", rttMs, retried });
const dest = (address: string, rttMs: number): Answer => ({ address, kind: "destination", rttMs, retried: false });

/** All probes leave at t=0 (they go back to back), as the driver sends them. */
function started(maxTtl: number, capMs = 1500, retries = 1): TraceState {
  const s = new TraceState(maxTtl, capMs, retries);
  for (let t = 1; t <= maxTtl; t++) s.sent(t, 0);
  return s;
}

describe("TraceState", () => {
  test("ends as soon as the destination and every lower hop answered", () => {
    const s = started(30);
    s.answered(1, router("10.0.0.1", 1));
    s.answered(3, dest("10.0.2.2", 14));
    expect(s.step(14).done).toBeUndefined(); // hop 2 is still missing
    s.answered(2, router("10.0.1.1", 11));
    s.answered(4, dest("10.0.2.2", 14.1)); // beyond the destination: ignored
    const step = s.step(14.2);
    expect(step.done).toBe("complete");
    expect(s.hops().map((h) => [h.ttl, h.kind])).toEqual([[1, "router"], [2, "router"], [3, "destination"]]);
  });

  test("a missing hop below an answer is retried once when overdue, then given up", () => {
    const s = started(30);
    s.answered(1, router("10.0.0.1", 1));
    s.answered(3, dest("10.0.2.2", 20));
    const first = s.step(20);
    expect(first.retry).toEqual([]);
    expect(first.wakeAt).toBe(25); // 20 + a quarter
    const overdue = s.step(25);
    expect(overdue.retry).toEqual([2]);
    s.sent(2, 25, true);
    expect(s.step(40).done).toBeUndefined();
    const end = s.step(50);
    expect(end.done).toBe("timeout");
    expect(s.hops()[1]).toEqual({ ttl: 2, kind: "silent" });
  });

  test("an answer to the retry fills the hop and ends the trace", () => {
    const s = started(30);
    s.answered(2, dest("10.0.2.2", 8));
    expect(s.step(10).retry).toEqual([1]);
    s.sent(1, 10, true);
    s.answered(1, router("10.0.0.1", 1.5, true));
    expect(s.step(11.5).done).toBe("complete");
    expect(s.hops()[0]).toEqual({ ttl: 1, address: "10.0.0.1", rttMs: 1.5, kind: "router", retried: true });
  });

  test("without retries an overdue hop is given up at once", () => {
    const s = started(30, 1500, 0);
    s.answered(2, dest("10.0.2.2", 8));
    expect(s.step(9).done).toBeUndefined();
    expect(s.step(10).done).toBe("timeout");
  });

  test("a silent destination ends a next link's 80 ms after the farthest answer (at least 1.5 × + 5), not 1500 ms", () => {
    const s = started(30);
    s.answered(1, router("10.0.0.1", 40));
    s.answered(2, router("10.0.1.1", 92));
    const waiting = s.step(100);
    expect(waiting.done).toBeUndefined();
    expect(waiting.wakeAt).toBe(172);
    expect(s.step(172).done).toBe("timeout");
    expect(s.hops().map((h) => h.kind)).toEqual(["router", "router"]);
  });

  test("the silent wait grows when a farther hop answers late", () => {
    const s = started(30);
    s.answered(1, router("10.0.0.1", 10));
    expect(s.step(12).wakeAt).toBe(90); // 10 + a next link's 80 ms
    s.answered(2, router("10.0.1.1", 85));
    expect(s.step(91).done).toBeUndefined();
    expect(s.step(91).wakeAt).toBe(165);
  });

  test("a prior trace that stopped at the same hop ends a silent trace right after that hop", () => {
    const prior = { lastTtl: 2, lastRttMs: 13, reached: false };
    const s = new TraceState(30, 1500, 1, prior);
    for (let t = 1; t <= 30; t++) s.sent(t, 0);
    s.answered(1, router("10.0.0.1", 1));
    expect(s.step(5).wakeAt).toBe(81); // not there yet: the usual wait
    s.answered(2, router("10.0.1.1", 13.2));
    expect(s.step(14).wakeAt).toBeCloseTo(16.5, 6); // 13.2 + a quarter
    expect(s.step(16.5).done).toBe("timeout");
  });

  test("a prior trace whose destination answered changes nothing", () => {
    const s = new TraceState(30, 1500, 1, { lastTtl: 3, lastRttMs: 14, reached: true });
    for (let t = 1; t <= 30; t++) s.sent(t, 0);
    for (const [t, r] of [[1, 1], [2, 2], [3, 13]] as const) s.answered(t, router(`10.0.${t}.1`, r));
    expect(s.step(20).wakeAt).toBe(93);
  });

  test("with no answer at all it waits the cap", () => {
    const s = started(30, 300);
    expect(s.step(299).wakeAt).toBe(300);
    expect(s.step(300).done).toBe("cap");
    expect(s.hops()).toEqual([]);
  });

  test("no retry when the retry could not finish before the cap", () => {
    const s = started(30, 100);
    s.answered(2, dest("10.0.2.2", 60));
    expect(s.step(76).retry).toEqual([]); // 76 + 75 > 100: given up instead
    expect(s.step(76).done).toBe("timeout");
  });

  test("an unreachable from a router ends the path there", () => {
    const s = started(30);
    s.answered(1, router("10.0.0.1", 1));
    s.answered(2, { address: "10.0.1.1", kind: "unreachable", rttMs: 2, retried: false });
    expect(s.step(2).done).toBe("complete");
    expect(s.hops().at(-1)?.kind).toBe("unreachable");
  });

  test("the first answer for a TTL wins", () => {
    const s = started(3);
    expect(s.answered(1, router("10.0.0.1", 1))).toBe(true);
    expect(s.answered(1, router("10.0.0.9", 5, true))).toBe(false);
    expect(s.answered(9, router("10.0.0.9", 5))).toBe(false);
    expect(s.hops()[0]?.address).toBe("10.0.0.1");
  });
});

describe("priorOf", () => {
  test("the farthest hop that answered, and whether the destination did", () => {
    const hops = [
      { ttl: 1, address: "10.0.0.1", rttMs: 1, kind: "router" as const },
      { ttl: 2, address: "10.0.1.1", rttMs: 13, kind: "router" as const },
      { ttl: 3, kind: "silent" as const },
    ];
    expect(priorOf({ destination: "d", reached: false, elapsedMs: 0, hops, ended: "timeout", startedAt: 0 })).toEqual({ lastTtl: 2, lastRttMs: 13, reached: false });
    expect(priorOf({ destination: "d", reached: false, elapsedMs: 0, hops: [], ended: "cap", startedAt: 0 })).toBeUndefined();
  });
});
