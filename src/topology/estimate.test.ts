import { describe, expect, test } from "bun:test";
import type { RouterAnnouncement } from "./directory.ts";
import { clientRttMs, pathRouters, plausibleClaim, rankCandidates } from "./estimate.ts";
import { closerCandidates } from "./finder.ts";
import type { TraceResult } from "./trace/types.ts";

// The thesis network (DESIGN.md "Thesis topology"), one-way delays in ms; router i's addresses are
// 10.0.i.x, so each router is one /29. IEP1's trace to UD: r7 r6 r5 r4 r2 r1 UD.
const IEP1_TO_UD: [string, number][] = [["10.0.7.1", 1], ["10.0.6.1", 9], ["10.0.5.1", 20], ["10.0.4.1", 10], ["10.0.2.1", 5], ["10.0.1.1", 0.5], ["10.0.1.2", 0.5]];

function traceOf(path: [string, number][], destination: string, reached = true): TraceResult {
  let oneWay = 0;
  const hops = path.map(([address, d], i) => {
    oneWay += d;
    const last = i === path.length - 1;
    return { ttl: i + 1, address, rttMs: 2 * oneWay, kind: last && reached ? ("destination" as const) : ("router" as const) };
  });
  return { destination, reached, elapsedMs: 0, hops, ended: "complete", startedAt: 0 };
}

const NOW = 1_000_000;
/** IEP1's own RTTs to the nodes (as its DHT measured them): IEP2 102 ms, IEP3 (next to r6) 22 ms. */
const MEASURED = new Map([["iep2", 102], ["iep3", 22]]);
function ann(nodeId: string, rttMs: number, extra: Partial<RouterAnnouncement> = {}): RouterAnnouncement {
  return { nodeId, address: `192.0.2.${nodeId.length}`, dhtPort: 4100, peerPort: 4101, rttMs, hops: 1, timestamp: NOW, expiresAt: NOW + 60_000, ...extra };
}

describe("pathRouters", () => {
  test("nearest the client first, one entry per /29", () => {
    const trace = traceOf(IEP1_TO_UD, "10.0.1.2");
    const path = pathRouters(trace, 29);
    expect(path.map((p) => p.routerId)).toEqual(["10.0.1.0/29", "10.0.2.0/29", "10.0.4.0/29", "10.0.5.0/29", "10.0.6.0/29", "10.0.7.0/29"]);
    // UD and r1 share a /29 here: the entry nearest the client (UD, TTL 7) is kept
    expect(path[0]).toEqual({ routerId: "10.0.1.0/29", ttl: 7, rttMs: 92 });
  });
  test("a silent client still contributes its own prefix, one hop past the farthest answer", () => {
    const trace = traceOf(IEP1_TO_UD.slice(0, 5), "10.0.9.9", false);
    const path = pathRouters(trace, 29);
    expect(path[0]).toEqual({ routerId: "10.0.9.8/29", ttl: 6, rttMs: 90 });
    expect(path).toHaveLength(6);
  });
  test("silent hops are skipped", () => {
    const trace = traceOf(IEP1_TO_UD, "10.0.1.2");
    trace.hops[2] = { ttl: 3, kind: "silent" };
    expect(pathRouters(trace, 29).map((p) => p.routerId)).not.toContain("10.0.5.0/29");
  });
});

describe("rankCandidates on the thesis network", () => {
  const trace = traceOf(IEP1_TO_UD, "10.0.1.2");
  const path = pathRouters(trace, 29);

  test("IEP2 comes first, estimated at 14 ms through r2 (the router nearest UD it announced)", () => {
    const lookups = new Map<string, RouterAnnouncement[]>([
      ["10.0.2.0/29", [ann("iep2", 12), ann("iep1", 90), ann("iep3", 72)]],
      ["10.0.4.0/29", [ann("iep2", 22), ann("iep1", 80), ann("iep3", 62)]],
      ["10.0.6.0/29", [ann("iep3", 2), ann("iep1", 20)]],
    ]);
    const ranked = rankCandidates(trace, path, lookups, { selfNodeId: "iep1", now: NOW, measured: MEASURED });
    expect(ranked.map((c) => c.nodeId)).toEqual(["iep2", "iep3"]);
    expect(ranked[0]).toEqual({ nodeId: "iep2", address: "192.0.2.4", peerPort: 4101, estimatedRttMs: 14, via: "10.0.2.0/29" });
    expect(ranked[1]!.estimatedRttMs).toBe(74);
    expect(clientRttMs(trace)).toBe(92);
  });

  test("the client's RTT is its own answer, not the slowest hop's", () => {
    const odd = traceOf(IEP1_TO_UD, "10.0.1.2");
    odd.hops[5] = { ...odd.hops[5]!, rttMs: 95 };
    expect(clientRttMs(odd)).toBe(92);
    expect(clientRttMs(traceOf(IEP1_TO_UD.slice(0, 4), "10.0.9.9", false))).toBe(80);
  });

  test("expired announcements and this node's own are left out", () => {
    const lookups = new Map([["10.0.2.0/29", [ann("iep2", 12, { expiresAt: NOW }), ann("iep1", 90)]]]);
    expect(rankCandidates(trace, path, lookups, { selfNodeId: "iep1", now: NOW, measured: MEASURED })).toEqual([]);
  });

  test("a node heard only at a router far from the client is estimated through it", () => {
    const lookups = new Map([["10.0.6.0/29", [ann("far", 2)]]]);
    const [c] = rankCandidates(trace, path, lookups, { selfNodeId: "iep1", now: NOW, measured: new Map([["far", 21]]) });
    expect(c).toMatchObject({ nodeId: "far", estimatedRttMs: 74, via: "10.0.6.0/29" }); // 2 + (92 - 20)
  });

  test("the remaining distance never goes negative (a router answering slower than the client)", () => {
    const odd = traceOf(IEP1_TO_UD, "10.0.1.2");
    odd.hops[4] = { ...odd.hops[4]!, rttMs: 95 }; // r2, slow to answer ICMP
    const lookups = new Map([["10.0.2.0/29", [ann("n", 3)]]]);
    const p = pathRouters(odd, 29);
    expect(rankCandidates(odd, p, lookups, { selfNodeId: "x", now: NOW, measured: new Map([["n", 93]]) })[0]!.estimatedRttMs).toBe(3);
  });
});

describe("announced RTTs are checked against this node's own", () => {
  const trace = traceOf(IEP1_TO_UD, "10.0.1.2");
  const path = pathRouters(trace, 29);

  test("the triangle check: |d - r| <= claim <= d + r, give or take 5 ms + 20%", () => {
    expect(plausibleClaim(12, 102, 90)).toBe(true); // IEP2 at r2: on the path between IEP1 and IEP2, the band's edge
    expect(plausibleClaim(72, 22, 90)).toBe(true); // IEP3 at r2
    expect(plausibleClaim(0.5, 4, 20)).toBe(false); // 4 ms from us, 20 ms from r: at least 16 - 9.8 from r
    expect(plausibleClaim(30, 4, 20)).toBe(true);
    expect(plausibleClaim(200, 4, 20)).toBe(false); // farther than going through us
  });

  test("a node that lies about its RTT, or that was not measured, is left out; honest ones stay", () => {
    const lookups = new Map<string, RouterAnnouncement[]>([["10.0.2.0/29", [ann("liar", 0.5), ann("iep2", 12), ann("silent", 1)]]]);
    const ranked = rankCandidates(trace, path, lookups, { selfNodeId: "iep1", now: NOW, measured: new Map([["liar", 5], ["iep2", 102]]) });
    expect(ranked.map((c) => c.nodeId)).toEqual(["iep2"]);
  });

  test("a node caught at one router is out, even where its claim would pass", () => {
    const lookups = new Map([["10.0.2.0/29", [ann("n", 12)]], ["10.0.6.0/29", [ann("n", 0.1)]]]);
    expect(rankCandidates(trace, path, lookups, { selfNodeId: "iep1", now: NOW, measured: new Map([["n", 102]]) })).toEqual([]);
  });

  test("at most 2 nodes per /24 are kept, the best estimated", () => {
    const sameNet = (id: string, rtt: number) => ann(id, rtt, { address: `198.51.100.${rtt}` });
    const lookups = new Map([["10.0.2.0/29", [sameNet("a", 12), sameNet("b", 13), sameNet("c", 14), ann("d", 20, { address: "192.0.2.99" })]]]);
    const measured = new Map(["a", "b", "c", "d"].map((id) => [id, 102]));
    expect(rankCandidates(trace, path, lookups, { selfNodeId: "iep1", now: NOW, measured }).map((c) => c.nodeId)).toEqual(["a", "b", "d"]);
  });
});

describe("closerCandidates", () => {
  test("keeps the nodes estimated closer than this one, in the runtime's shape", () => {
    const answer = {
      client: "10.0.1.2", selfRttMs: 92, reached: true, elapsedMs: 1, cached: false,
      candidates: [
        { nodeId: "iep2", address: "192.0.2.4", peerPort: 4101, estimatedRttMs: 14, via: "10.0.2.0/29" },
        { nodeId: "far", address: "192.0.2.9", peerPort: 4101, estimatedRttMs: 120, via: "10.0.6.0/29" },
      ],
    };
    expect(closerCandidates(answer)).toEqual([{ nodeId: "iep2", address: "192.0.2.4", peerPort: 4101, rttMs: 14, routerId: "10.0.2.0/29", ownRttMs: 92 }]);
    expect(closerCandidates({ ...answer, selfRttMs: null })).toHaveLength(2);
  });
});
