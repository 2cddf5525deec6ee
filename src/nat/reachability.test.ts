import { expect, test } from "bun:test";
import { FakeClock } from "../util/clock.ts";
import { Reachability, VOTE_LIFETIME_MS } from "./reachability.ts";

const own = (ip: string) => ip === "198.51.100.7";
const ok = (observed: string) => ({ observed, dht: true, peer: true });
/** A voter in a /24 of its own, by letter. */
const voter = (v: string) => `192.0.${v.charCodeAt(0)}.10`;

test("reached by a quorum of /24s: public at its own address, mapped at another", () => {
  const r = new Reachability(2, new FakeClock(), own);
  r.report(voter("a"), ok("198.51.100.7"));
  expect(r.verdict().reach).toBe("unknown");
  r.report(voter("b"), ok("198.51.100.7"));
  expect(r.verdict()).toEqual({ reach: "public", address: "198.51.100.7" });

  const home = new Reachability(2, new FakeClock(), own);
  home.report(voter("a"), ok("6.0.3.2"));
  home.report(voter("b"), ok("6.0.3.2"));
  expect(home.verdict()).toEqual({ reach: "mapped", address: "6.0.3.2" });
});

test("many verifiers in one /24 are one vote, for reached and for not reached", () => {
  const r = new Reachability(2, new FakeClock(), own);
  for (let i = 1; i <= 64; i++) r.report(`203.0.113.${i}`, { observed: "6.0.3.2", dht: false, peer: false });
  expect(r.verdict().reach).toBe("unknown");
  for (let i = 1; i <= 64; i++) r.report(`203.0.114.${i}`, ok("6.6.6.6"));
  expect(r.verdict().reach).toBe("unknown"); // one /24 failed, one reached: neither has 2
});

test("unreachable when a quorum could not open a port, and the reason names it", () => {
  const r = new Reachability(2, new FakeClock(), own);
  r.report(voter("a"), { observed: "6.0.3.2", dht: false, peer: true });
  r.report(voter("b"), { observed: "6.0.3.2", dht: false, peer: false });
  const v = r.verdict();
  expect(v.reach).toBe("unreachable");
  expect(v.reason).toContain("DHT (UDP) and peer (TCP) port at 6.0.3.2");
});

test("reached wins over not reached, and a voter's latest word replaces its earlier one", () => {
  const r = new Reachability(2, new FakeClock(), own);
  for (const v of ["a", "b", "c"]) r.report(voter(v), { observed: "6.0.3.2", dht: false, peer: false });
  r.report(voter("d"), ok("6.0.3.2"));
  r.report(voter("a"), ok("6.0.3.2")); // a's mapping now works
  expect(r.verdict()).toEqual({ reach: "mapped", address: "6.0.3.2" });
});

test("two liars naming another address do not move a verdict the others agree on", () => {
  const r = new Reachability(2, new FakeClock(), own);
  for (const v of ["a", "b", "c"]) r.report(voter(v), ok("6.0.3.2"));
  for (const v of ["x", "y"]) r.report(voter(v), ok("203.0.113.66"));
  expect(r.verdict().address).toBe("6.0.3.2");
});

test("votes expire", async () => {
  const clock = new FakeClock();
  const r = new Reachability(1, clock, own);
  r.report(voter("a"), ok("6.0.3.2"));
  expect(r.verdict().reach).toBe("mapped");
  await clock.advance(VOTE_LIFETIME_MS + 1);
  expect(r.verdict().reach).toBe("unknown");
});

test("IPv6 verifiers vote per /48, and the verdict's reasons say so", () => {
  const r = new Reachability(2, new FakeClock(), (ip) => ip === "2d00:1c0:9::5", 6);
  r.report("2d00:1c0:1:1::1", ok("2d00:1c0:9::5"));
  r.report("2d00:1c0:1:2::1", ok("2d00:1c0:9::5")); // another /64 of the same site: the same voter
  expect(r.verdict()).toEqual({ reach: "unknown", reason: "1 of the 2 networks (/48) needed have dialled back so far" });
  r.report("2d00:1c0:2::1", ok("2d00:1c0:9::5"));
  expect(r.verdict()).toEqual({ reach: "public", address: "2d00:1c0:9::5" });
});
