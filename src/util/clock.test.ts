import { describe, expect, test } from "bun:test";
import { FakeClock, realClock } from "./clock.ts";

describe("FakeClock", () => {
  test("runs timers in due order, same-instant timers in the order they were set", async () => {
    const c = new FakeClock(0);
    const order: string[] = [];
    c.setTimeout(() => order.push("b@20"), 20);
    c.setTimeout(() => order.push("a@10"), 10);
    c.setTimeout(() => order.push("c@20"), 20);
    const cancelled = c.setTimeout(() => order.push("never"), 15);
    c.clearTimeout(cancelled);
    await c.advance(25);
    expect(order).toEqual(["a@10", "b@20", "c@20"]);
    expect(c.now()).toBe(25);
  });

  test("promise continuations see the time of the timer that resolved them", async () => {
    const c = new FakeClock(0);
    const seen: number[] = [];
    const work = (async () => {
      await c.sleep(100);
      seen.push(c.now());
      await c.sleep(50);
      seen.push(c.now());
      return "done";
    })();
    c.setTimeout(() => seen.push(-1), 400); // a later timer must not run first
    expect(await c.run(work)).toBe("done");
    expect(seen).toEqual([100, 150]);
  });

  test("run() reports a promise that can never settle", async () => {
    const c = new FakeClock(0);
    await expect(c.run(new Promise(() => {}))).rejects.toThrow("no timers are left");
    c.setTimeout(() => {}, 10_000);
    await expect(c.run(new Promise(() => {}), 1000)).rejects.toThrow("within 1000 virtual ms");
  });
});

test("the real clock is epoch-based and fine-grained", async () => {
  const a = realClock.now();
  expect(Math.abs(a - Date.now())).toBeLessThan(1000);
  await new Promise<void>((r) => realClock.setTimeout(r, 5));
  expect(realClock.now() - a).toBeGreaterThanOrEqual(4);
});
