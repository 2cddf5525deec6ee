/**
 * The real tracer on loopback (any user): the kernel answers probes to a closed port with a port
 * unreachable, which exercises the sockets, the error queue, the timestamps and the end of the trace.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { udp } from "bun";
import { isIconError } from "../../errors.ts";
import { BASE_PORT, RETRY_PORT_OFFSET } from "./types.ts";
import { UdpTracer } from "./udp-tracer.ts";

const tracer = new UdpTracer();
// A loopback address of its own, so parallel test runs do not share the fixed traceroute ports.
const SILENT = `127.${50 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

describe("UdpTracer on loopback", () => {
  test("127.0.0.1 answers at TTL 1 with a port unreachable, within the first round trip", async () => {
    const seen: number[] = [];
    const r = await tracer.trace("127.0.0.1", { maxTtl: 8, onHop: (h) => seen.push(h.ttl) });
    expect(r.reached).toBe(true);
    expect(r.ended).toBe("complete");
    expect(r.hops).toHaveLength(1);
    expect(r.hops[0]).toMatchObject({ ttl: 1, address: "127.0.0.1", kind: "destination" });
    // Measured from the probe's send to the kernel's receive timestamp of the answer: never zero, and
    // within the trace (a missing timestamp or a clock mix-up gives 0, a negative or a huge value).
    expect(r.hops[0]!.rttMs!).toBeGreaterThan(0);
    expect(r.hops[0]!.rttMs!).toBeLessThan(r.elapsedMs + 0.001);
    expect(seen).toEqual([1]); // probes beyond the destination are not reported as hops
    expect(Math.abs(r.startedAt - Date.now())).toBeLessThan(5000);
  });

  test("::1 answers the same way over IPv6 (ICMPv6 port unreachable), named canonically", async () => {
    const r = await tracer.trace("0:0::0:1", { maxTtl: 4 });
    expect(r).toMatchObject({ destination: "::1", reached: true, ended: "complete" });
    expect(r.hops).toEqual([{ ttl: 1, address: "::1", rttMs: r.hops[0]!.rttMs!, kind: "destination" }]);
    expect(r.hops[0]!.rttMs!).toBeGreaterThan(0);
  });

  test("back-to-back traces all complete (no answers lost between them)", async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => tracer.trace("127.0.0.1", { maxTtl: 4 })));
    expect(results.map((r) => r.ended)).toEqual(Array(6).fill("complete"));
  });

  describe("a destination that never answers", () => {
    const listeners: udp.Socket<"buffer">[] = [];
    beforeAll(async () => {
      // Something listening on every probe port (first and retry) keeps the kernel from answering.
      for (let ttl = 1; ttl <= 3; ttl++)
        for (const port of [BASE_PORT + ttl - 1, BASE_PORT + RETRY_PORT_OFFSET + ttl - 1])
          listeners.push(await Bun.udpSocket({ hostname: SILENT, port }));
    });
    afterAll(() => listeners.forEach((s) => s.close()));

    test("is given up at the cap, and the event loop keeps running meanwhile", async () => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const r = await tracer.trace(SILENT, { maxTtl: 3, capMs: 150 });
      clearInterval(timer);
      expect(r.reached).toBe(false);
      expect(r.ended).toBe("cap");
      expect(r.hops).toEqual([]);
      expect(r.elapsedMs).toBeGreaterThanOrEqual(150);
      expect(ticks).toBeGreaterThan(10); // a blocking wait would have starved the interval
    });

    test("an abort ends it early", async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 30);
      const r = await tracer.trace(SILENT, { maxTtl: 3, capMs: 1000, signal: ac.signal });
      expect(r.ended).toBe("aborted");
      expect(r.elapsedMs).toBeLessThan(500);
    });
  });

  test("bad input is refused before any probe leaves", async () => {
    for (const bad of ["10.0.0", "localhost", "::1::", "2d00:1c0::1%eth0"]) {
      const e = await tracer.trace(bad).catch((x) => x);
      expect(isIconError(e, "INVALID_INPUT")).toBe(true);
    }
    const e = await tracer.trace("127.0.0.1", { maxTtl: 65 }).catch((x) => x);
    expect(isIconError(e, "USAGE")).toBe(true);
  });
});
