import { describe, expect, test } from "bun:test";
import { INITIAL_RTO_MS, MIN_RTO_MS } from "./constants.ts";
import { DelayAboveFloor, FLOOR_WINDOW_MS, RECENT_RTTS, RecentRtts, RttEstimator } from "./rtt.ts";

function estimators() {
  const delay = new DelayAboveFloor();
  const all = new RttEstimator();
  const feed = (c: RttEstimator, ms: number, now: number) => {
    const above = c.sample(ms, now);
    if (above !== undefined) delay.sample(above, now);
    all.sample(ms, now);
  };
  return { delay, all, feed, rto: (c: RttEstimator, now: number) => delay.rto(c, all, now) };
}

describe("retransmission timeouts", () => {
  test("a contact never measured starts from the estimate over all contacts, or 1 s", () => {
    const e = estimators();
    expect(e.rto(new RttEstimator(), 0)).toBe(INITIAL_RTO_MS);
    e.feed(new RttEstimator(), 100, 0);
    expect(e.rto(new RttEstimator(), 0)).toBe(300); // RFC 6298 after one sample: 100 + 4 x 50
  });

  test("busy moments raise every contact's timeout at once, and do not keep it up once the machine is idle", () => {
    const e = estimators();
    const a = new RttEstimator(), b = new RttEstimator();
    // Loopback contacts: 1 ms when idle, then 300-500 ms while 30 nodes join on 2 cores.
    e.feed(a, 1, 0);
    e.feed(b, 1, 0);
    for (let i = 0; i < 5; i++) e.feed(a, 300 + 50 * i, 100 + i);
    expect(e.rto(a, 105)).toBeGreaterThan(500); // above every delay measured: no spurious retransmissions
    expect(e.rto(b, 105)).toBeGreaterThan(500); // b has not been slow yet, but this machine is busy now
    // Idle again: other contacts answer promptly; `a` itself is not heard from.
    const others = Array.from({ length: 20 }, () => new RttEstimator());
    for (let round = 0; round < 3; round++) others.forEach((o, i) => e.feed(o, 1 + (i % 3) * 0.2, 1000 + round * 100 + i));
    expect(e.rto(a, 1300)).toBe(MIN_RTO_MS);
    expect(a.rfcRto()).toBeGreaterThan(500); // what RFC 6298 alone keeps, until `a` answers a dozen times more
  });

  test("the delay above the floors halves every second without samples", () => {
    const e = estimators();
    const a = new RttEstimator();
    e.feed(a, 100, 0);
    e.feed(a, 300, 10); // 200 ms above the floor: RFC 6298's first sample, SRTT' 200, RTTVAR' 100
    expect(e.rto(a, 10)).toBeCloseTo(125 + 200 + 400, 5);
    expect(e.rto(a, 1010)).toBeCloseTo(125 + 100 + 200, 5);
    expect(e.rto(a, 10_010)).toBeCloseTo(125 + 600 / 1024, 5); // an idle path: its floor and a quarter of it again
  });

  test("a contact's floor is its lowest RTT of the window; an old one gives way to the next sample", () => {
    const c = new RttEstimator();
    expect(c.sample(50, 0)).toBeUndefined(); // the first sample sets the floor
    expect(c.sample(70, 10)).toBe(20);
    expect(c.sample(40, 20)).toBe(0);
    expect(c.floor).toBe(40);
    expect(c.sample(90, 20 + FLOOR_WINDOW_MS + 1)).toBeUndefined(); // a route may have changed
    expect(c.floor).toBe(90);
  });
});

describe("recent RTTs over all contacts", () => {
  test("a quantile needs 3 samples; of few it is the largest; old samples leave the window", () => {
    const r = new RecentRtts();
    r.sample(50);
    r.sample(300);
    expect(r.quantile(0.9)).toBeUndefined();
    r.sample(100);
    expect(r.quantile(0.9)).toBe(300);
    expect(r.quantile(0.5)).toBe(100);
    for (let i = 1; i <= RECENT_RTTS; i++) r.sample(i);
    expect(r.quantile(0.9)).toBe(Math.floor(0.9 * RECENT_RTTS) + 1);
    expect(r.quantile(0.75)).toBe(0.75 * RECENT_RTTS + 1);
  });
});
