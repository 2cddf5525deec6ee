import { describe, expect, test } from "bun:test";
import { IconError } from "../errors.ts";
import { FakeClock } from "../util/clock.ts";
import { InboundLimits, subnetOf, type InboundSlot } from "./limits.ts";

const open = (l: InboundLimits, ip: string): InboundSlot => {
  const s = l.admit(ip);
  if (s instanceof IconError) throw s;
  s.handshaking = false;
  return s;
};

describe("inbound limits of the peer port", () => {
  test("groups IPv4 addresses by /24; anything else is its own group", () => {
    expect(subnetOf("203.0.113.7")).toBe("203.0.113.0/24");
    expect(subnetOf("::ffff:203.0.113.7")).toBe("203.0.113.0/24");
    expect(subnetOf("2001:db8::1")).toBe("2001:db8::/48");
    expect(subnetOf("2001:db8:0:7::1")).toBe(subnetOf("2001:db8:0:9::5")); // one site, one group
  });

  test("caps per IP and per /24 refuse with RATE_LIMITED and count by reason; a release frees the place", () => {
    const l = new InboundLimits(new FakeClock(), { connectionsPerIp: 2, connectionsPerSubnet: 3, handshakeRatePerSubnet: 1000 });
    const a = open(l, "10.0.0.1");
    open(l, "10.0.0.1");
    expect(l.admit("10.0.0.1")).toMatchObject({ code: "RATE_LIMITED", message: expect.stringContaining("10.0.0.1 holds 2") });
    open(l, "10.0.0.2");
    expect(l.admit("10.0.0.3")).toMatchObject({ code: "RATE_LIMITED", message: expect.stringContaining("10.0.0.0/24 holds 3") });
    expect(l.admit("10.0.1.1")).not.toBeInstanceOf(IconError); // another /24
    expect(l.counters).toMatchObject({ perIp: 1, perSubnet: 1 });
    l.release(a);
    expect(l.admit("10.0.0.3")).not.toBeInstanceOf(IconError);
  });

  test("handshakes in progress are capped per /24 apart from open connections", () => {
    const l = new InboundLimits(new FakeClock(), { handshakesPerSubnet: 2, handshakeRatePerSubnet: 1000 });
    l.admit("10.0.0.1");
    l.admit("10.0.0.2");
    expect(l.admit("10.0.0.3")).toBeInstanceOf(IconError);
    expect(l.counters.handshakesPerSubnet).toBe(1);
  });

  test("new handshakes per /24 are rate-limited, refilling with time", async () => {
    const clock = new FakeClock();
    const l = new InboundLimits(clock, { handshakeRatePerSubnet: 2, connectionsPerIp: 100, handshakesPerSubnet: 100 });
    const results = Array.from({ length: 6 }, () => l.admit("10.0.0.1") instanceof IconError);
    expect(results).toEqual([false, false, false, false, true, true]); // a burst of twice the rate
    expect(l.admit("10.9.9.9")).not.toBeInstanceOf(IconError);
    await clock.advance(500);
    expect(l.admit("10.0.0.1")).not.toBeInstanceOf(IconError);
    expect(l.counters.handshakeRate).toBe(2);
  });

  test("a full table makes room by evicting the least active socket of the busiest /24, never one of a smaller /24", async () => {
    const clock = new FakeClock();
    const l = new InboundLimits(clock, { maxConnections: 4, handshakeRatePerSubnet: 1000 });
    const evicted: string[] = [];
    const add = (ip: string) => {
      const s = open(l, ip);
      s.evict = () => evicted.push(ip);
      return s;
    };
    add("10.0.0.1").lastActivity = clock.now() + 5;
    add("10.0.0.2").lastActivity = clock.now() + 1; // the least active of the busiest /24
    add("10.0.0.3").lastActivity = clock.now() + 9;
    add("10.0.1.1");
    expect(l.admit("10.0.2.1")).not.toBeInstanceOf(IconError);
    expect(evicted).toEqual(["10.0.0.2"]);
    expect(l.counters.evicted).toBe(1);
    // Now 10.0.0/24 holds 2 and 10.0.1/24 and 10.0.2/24 one each: a newcomer from 10.0.1/24 may not
    // push out 10.0.0/24 (2 is not more than 1 + 1), and the busiest /24 itself never gains by eviction.
    expect(l.admit("10.0.1.2")).toMatchObject({ code: "RATE_LIMITED", message: expect.stringContaining("too many peer connections") });
    expect(l.admit("10.0.0.9")).toBeInstanceOf(IconError);
    expect(l.admit("10.0.7.1")).not.toBeInstanceOf(IconError);
    expect(evicted).toEqual(["10.0.0.2", "10.0.0.1"]);
  });
});
