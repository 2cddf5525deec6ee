import { describe, expect, test } from "bun:test";
import { TraceState, type Answer } from "./trace-state.ts";

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

  test("a silent destination ends after 1.5 × the farthest RTT + 5 ms (at least +50 ms), not 1500 ms", () => {
    const s = started(30);
    s.answered(1, router("10.0.0.1", 40));
    s.answered(2, router("10.0.1.1", 92));
    const waiting = s.step(100);
    expect(waiting.done).toBeUndefined();
    expect(waiting.wakeAt).toBe(143);
    expect(s.step(143).done).toBe("timeout");
    expect(s.hops().map((h) => h.kind)).toEqual(["router", "router"]);
  });

  test("the silent wait grows when a farther hop answers late", () => {
    const s = started(30);
    s.answered(1, router("10.0.0.1", 10));
    expect(s.step(12).wakeAt).toBe(60); // 10 + a next link's 50 ms
    s.answered(2, router("10.0.1.1", 55));
    expect(s.step(61).done).toBeUndefined();
    expect(s.step(61).wakeAt).toBe(105);
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
