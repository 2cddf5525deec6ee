import { describe, expect, test } from "bun:test";
import { FakeClock } from "../util/clock.ts";
import { CutOff, PROBE_INTERVAL_MS, PROBE_LIMIT } from "./cut-off.ts";
import type { DhtEvent } from "./events.ts";

/**
 * A watch over queries named by letters, nearest the target first in `nodes`. Every query in `open` is sent
 * at time 0; a resend is logged as "name@ms" and succeeds unless `resendable` is false.
 */
function watch(o: { quantile?: number; open?: string[]; nodes?: string[]; resendable?: boolean; askAgainAfterTimeout?: boolean } = {}) {
  const clock = new FakeClock(0);
  const resent: string[] = [];
  const events: DhtEvent[] = [];
  let askedNext = 0;
  const open = o.open ?? ["a", "b", "c"];
  const w = new CutOff<string>({
    clock,
    alpha: 3,
    rttQuantile: () => o.quantile,
    nearestFirst: () => o.nodes ?? ["a", "b", "c", "d"],
    askNext: () => askedNext++,
    askAgainAfterTimeout: o.askAgainAfterTimeout ?? true,
    onEvent: (e) => events.push(e),
  });
  const send = (q: string) => w.sent(q, () => (o.resendable === false ? false : (resent.push(`${q}@${clock.now()}`), true)));
  open.forEach(send);
  w.start();
  return { w, clock, resent, events, send, askedNext: () => askedNext, cutOffs: () => events.filter((e) => e.type === "cut-off") };
}

describe("cut-off", () => {
  test("quiet for the 75th percentile of recent RTTs: looks cut off and probes the open queries nearest first, one per interval, round the list", async () => {
    const t = watch({ quantile: 100 });
    await t.clock.advance(99);
    expect(t.cutOffs()).toHaveLength(0);
    expect(t.w.width).toBe(3);
    await t.clock.advance(1);
    expect(t.events).toEqual([{ type: "cut-off", quietMs: 100 }]);
    await t.clock.advance(3 * PROBE_INTERVAL_MS);
    expect(t.resent).toEqual(["a@100", "b@150", "c@200", "a@250"]);
    expect(t.askedNext()).toBe(0); // a resend was possible every time: nobody new asked
    // It keeps twice alpha queries in flight from now on.
    expect(t.w.width).toBe(6);
  });

  test("a quiet spell is never shorter than the minimum RTO, and without RTT samples only slow queries tell", async () => {
    const fast = watch({ quantile: 10 });
    await fast.clock.advance(39);
    expect(fast.cutOffs()).toHaveLength(0);
    await fast.clock.advance(1);
    expect(fast.cutOffs()).toHaveLength(1);

    const unknown = watch({ quantile: undefined });
    await unknown.clock.advance(10_000);
    expect(unknown.cutOffs()).toHaveLength(0);
  });

  test("alpha queries sent since the last answer that go slow look like a cut-off; those sent before it do not count", async () => {
    const t = watch();
    t.w.slow(0);
    t.w.slow(0);
    await t.clock.advance(10);
    t.w.answered(new Map());
    t.w.slow(0); // sent before the answer: some peer is slow, not this node's link
    t.w.slow(10);
    t.w.slow(10);
    expect(t.cutOffs()).toHaveLength(0);
    t.w.slow(10);
    expect(t.events).toEqual([{ type: "cut-off", quietMs: 0 }]);
    expect(t.resent).toEqual(["a@10"]);
  });

  test("when no open query may be sent again, a probe asks the next node", async () => {
    const t = watch({ quantile: 100, resendable: false });
    await t.clock.advance(100 + 2 * PROBE_INTERVAL_MS);
    expect(t.resent).toEqual([]);
    expect(t.askedNext()).toBe(3);
  });

  test("probes stop after PROBE_LIMIT, and a query that ended is no longer probed", async () => {
    const t = watch({ quantile: 100 });
    t.w.ended("b");
    await t.clock.advance(100 + 100 * PROBE_INTERVAL_MS);
    expect(t.resent).toHaveLength(PROBE_LIMIT);
    expect(t.resent.filter((r) => r.startsWith("b@"))).toEqual([]);
    expect(t.resent.slice(0, 3)).toEqual(["a@100", "c@150", "a@200"]);
  });

  test("the first answer after a cut-off sends again the waiting queries sent since the last answer, and ends the probes", async () => {
    const t = watch({ quantile: 100, open: [] });
    t.send("x");
    await t.clock.advance(20);
    // An answer without a cut-off sends nothing again.
    expect(t.w.answered(new Map([["x", { sentAt: 0 }]]))).toEqual([]);
    t.send("y");
    await t.clock.advance(10);
    t.send("z");
    await t.clock.advance(90); // quiet since the answer at 20: cut off at 120
    expect(t.cutOffs()).toHaveLength(1);
    await t.clock.advance(60); // probes at 120 and 170
    t.resent.length = 0;
    // x went out before the last answer (its loss is not this outage's), y and z after it; z is slow (not waiting).
    const again = t.w.answered(new Map([["x", { sentAt: 0 }], ["y", { sentAt: 20 }]]));
    expect(again).toEqual(["y"]);
    expect(t.resent).toEqual(["y@180"]);
    await t.clock.advance(99); // quiet again only 100 ms after this answer
    expect(t.resent).toEqual(["y@180"]);
    expect(t.w.width).toBe(6);
  });

  test("a query that times out while cut off is asked again once, only when the lookup asks again and while the probes last", async () => {
    const t = watch({ quantile: 100 });
    expect(t.w.askAgain("a")).toBe(false); // not cut off: the peer's fault
    await t.clock.advance(100);
    expect(t.w.askAgain("a")).toBe(true);
    expect(t.w.askAgain("a")).toBe(false);
    expect(t.w.askAgain("b")).toBe(true);
    await t.clock.advance(PROBE_LIMIT * PROBE_INTERVAL_MS);
    expect(t.w.askAgain("c")).toBe(false); // the probes are spent

    const nodeLookup = watch({ quantile: 100, askAgainAfterTimeout: false });
    await nodeLookup.clock.advance(100);
    expect(nodeLookup.w.askAgain("a")).toBe(false);
  });

  test("stopped, it neither probes nor watches", async () => {
    const t = watch({ quantile: 100 });
    await t.clock.advance(100);
    t.w.stop();
    t.w.answered(new Map());
    t.w.slow(200);
    t.w.slow(200);
    t.w.slow(200);
    await t.clock.advance(1000);
    expect(t.resent).toEqual(["a@100"]);
    expect(t.clock.pending).toBe(0);
  });
});
