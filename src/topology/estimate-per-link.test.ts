import { describe, expect, test } from "bun:test";
import type { RouterAnnouncement } from "./directory.ts";
import { partingHop, pathRouters, rankCandidates, treeEstimate } from "./estimate.ts";
import type { Hop, TraceResult } from "./trace/types.ts";

// `icon testbed up --topology random --seed 1 --numbering per-link`: each link is its own /30 of
// 10.0.0.0/16 (link k at 10.0.0.4k), so a /29 routerId holds two links. The origin IEP2 asks for the nodes
// closest to UD2. IEP3 is 23 ms from UD2, IEP1 35.2 ms. IEP1 announced a1 (its first router, 5.4 ms) at
// 10.0.0.50, in the /29 of the unrelated link e2-a2 whose e2 end (10.0.0.53) is the origin's last hop
// before UD2: the thesis's estimate puts IEP1 at 7.2 ms, first. IEP3 announced c1 (29.2 ms) at the c1 end
// of link c1-c2, whose c2 end the origin sees: IEP3 comes out a whole link (16 ms) too far.
const hop = (ttl: number, address: string, rttMs: number, last = false) => ({ ttl, address, rttMs, kind: last ? ("destination" as const) : ("router" as const) });
const TRUNK = [hop(1, "10.1.2.1", 3.2), hop(2, "10.0.0.58", 7.4), hop(3, "10.0.0.34", 13.8), hop(4, "10.0.0.2", 30)]; // e3 a3 c1 c2
const trace = (destination: string, hops: Hop[]): TraceResult => ({ destination, reached: true, elapsedMs: 0, hops, ended: "complete", startedAt: 0 });
const TO_UD2 = trace("10.1.5.10", [...TRUNK, hop(5, "10.0.0.29", 36.2), hop(6, "10.0.0.53", 38.2), hop(7, "10.1.5.10", 40, true)]); // a2 e2 UD2
const TO_IEP1 = trace("10.1.1.10", [...TRUNK, hop(5, "10.0.0.25", 50), hop(6, "10.0.0.49", 52.4), hop(7, "10.1.1.10", 55.4, true)]); // a1 e1 IEP1
const TO_IEP3 = trace("10.1.3.10", [...TRUNK, hop(5, "10.0.0.42", 37), hop(6, "10.0.0.66", 41.8), hop(7, "10.1.3.10", 43, true)]); // a5 e5 IEP3

const NOW = 1_000_000;
const ann = (nodeId: string, address: string, rttMs: number): RouterAnnouncement =>
  ({ nodeId, address, dhtPort: 4100, peerPort: 4101, rttMs, hops: 1, timestamp: NOW, expiresAt: NOW + 60_000 });
// What each announced from its trace of IEP2, under the /29s of the origin's path to UD2.
const LOOKUPS = new Map<string, RouterAnnouncement[]>([
  ["10.0.0.48/29", [ann("iep1", "10.1.1.10", 5.4)]], // IEP1's a1 (link e1-a1) ~ the origin's e2 (link e2-a2)
  ["10.0.0.24/29", [ann("iep1", "10.1.1.10", 25.4)]], // IEP1's c2 (link a1-c2) ~ a2 (link a2-c2)
  ["10.0.0.0/29", [ann("iep1", "10.1.1.10", 41.6), ann("iep3", "10.1.3.10", 29.2)]], // their c1 ~ c2, the link's other end
  ["10.0.0.32/29", [ann("iep1", "10.1.1.10", 48), ann("iep3", "10.1.3.10", 35.6)]],
  ["10.0.0.56/29", [ann("iep1", "10.1.1.10", 52.2), ann("iep3", "10.1.3.10", 39.8)]],
]);
const MEASURED = new Map([["iep1", 55.9], ["iep3", 43.5]]);
const path = pathRouters(TO_UD2, 29);
const base = { selfNodeId: "iep2", now: NOW, measured: MEASURED };

describe("estimates on a network that numbers links (issue 14)", () => {
  test("the thesis's estimate alone ranks the far node first: what the tree check corrects", () => {
    const ranked = rankCandidates(TO_UD2, path, LOOKUPS, base);
    expect(ranked.map((c) => [c.nodeId, c.estimatedRttMs])).toEqual([["iep1", 7.2], ["iep3", 39.2]]);
  });

  test("with this node's traces of the nodes, the nearest comes first, each within 1 ms of its RTT", () => {
    const tree = { nodeTraces: new Map([["iep1", TO_IEP1], ["iep3", TO_IEP3]]), routerMask: 29 };
    const ranked = rankCandidates(TO_UD2, path, LOOKUPS, { ...base, tree });
    expect(ranked.map((c) => c.nodeId)).toEqual(["iep3", "iep1"]);
    expect(Math.abs(ranked[0]!.estimatedRttMs - 23)).toBeLessThanOrEqual(1);
    expect(Math.abs(ranked[1]!.estimatedRttMs - 35.2)).toBeLessThanOrEqual(1);
    expect(ranked[0]!.via).toBe("10.0.0.0/29"); // c2, where the origin's paths to UD2 and IEP3 part
  });

  test("a node not traced yet is estimated as the thesis does", () => {
    const tree = { nodeTraces: new Map([["iep3", TO_IEP3]]), routerMask: 29 };
    const ranked = rankCandidates(TO_UD2, path, LOOKUPS, { ...base, tree });
    expect(ranked.find((c) => c.nodeId === "iep1")!.estimatedRttMs).toBe(7.2);
  });
});

describe("an implausible claim where links are numbered", () => {
  // An honest node's map keeps one RTT per /29, the smaller of two routers' when two of its links share it:
  // say IEP3's own access link shares c1's /29, at 2 ms; the origin is 13.8 ms from c1 and 43.5 from IEP3.
  const aliased = new Map(LOOKUPS);
  aliased.set("10.0.0.32/29", [ann("iep1", "10.1.1.10", 48), ann("iep3", "10.1.3.10", 2)]);

  test("drops the claim, not the node, when this node traced it: its estimate is its own traces'", () => {
    const tree = { nodeTraces: new Map([["iep1", TO_IEP1], ["iep3", TO_IEP3]]), routerMask: 29 };
    const ranked = rankCandidates(TO_UD2, path, aliased, { ...base, tree });
    expect(ranked.map((c) => [c.nodeId, c.estimatedRttMs])).toEqual([["iep3", 23], ["iep1", 35.4]]);
  });

  test("leaves the node out when it did not: nothing else checks its claims", () => {
    const tree = { nodeTraces: new Map([["iep1", TO_IEP1]]), routerMask: 29 };
    expect(rankCandidates(TO_UD2, path, aliased, { ...base, tree }).map((c) => c.nodeId)).toEqual(["iep1"]);
  });
});

describe("the tree estimate", () => {
  test("the paths part at the farthest hop both passed", () => {
    expect(partingHop(TO_UD2, TO_IEP1)).toMatchObject({ ttl: 4, address: "10.0.0.2" });
    expect(treeEstimate(TO_UD2, TO_IEP1)).toMatchObject({ rttMs: 35.4, via: { ttl: 4 } }); // (55.4 - 30) + (40 - 30)
  });

  test("each part is taken within its own trace: the node's from the node's, the client's from the client's", () => {
    const later = { ...TO_IEP1, hops: TO_IEP1.hops.map((h) => ({ ...h, rttMs: h.rttMs! + 3 })) }; // a busier moment: every hop 3 ms later
    expect(treeEstimate(TO_UD2, later)!.rttMs).toBe(35.4);
  });

  test("a silent hop on either trace neither joins nor parts the paths", () => {
    const silent = { ...TO_IEP3, hops: TO_IEP3.hops.map((h) => (h.ttl === 3 ? { ttl: 3, kind: "silent" as const } : h)) };
    expect(partingHop(TO_UD2, silent)?.ttl).toBe(4);
  });

  test("no estimate when the node did not answer or the paths share no hop", () => {
    expect(treeEstimate(TO_UD2, { ...TO_IEP1, reached: false })).toBeUndefined();
    const elsewhere = { ...TO_IEP1, hops: TO_IEP1.hops.map((h) => ({ ...h, address: h.address?.replace("10.", "11.") })) };
    expect(treeEstimate(TO_UD2, elsewhere)).toBeUndefined();
  });

  test("a node on the client's own path parts at the hop before itself", () => {
    expect(partingHop(TO_UD2, trace("10.0.0.53", TO_UD2.hops.slice(0, 6).map((h, i) => (i === 5 ? { ...h, kind: "destination" as const } : h))))?.ttl).toBe(5);
  });
});

describe("a client behind this node's own first router", () => {
  // Seed 2: IEP1 and UD1 share the access router e3, which IEP1 sees at its LAN's gateway. IEP3's path to
  // IEP1 enters e3 over the link from a3: it announced e3 under that link's /29, which the client's path
  // never crosses, but IEP1's paths to everywhere else do, as their second hop (a3's end of the link).
  const toUd1 = trace("10.1.4.10", [hop(1, "10.1.1.1", 4), hop(2, "10.1.4.10", 4.8, true)]);
  const toIep3 = trace("10.1.3.10", [hop(1, "10.1.1.1", 4), hop(2, "10.0.0.50", 10.2), hop(3, "10.0.0.9", 39), hop(4, "10.0.0.14", 50), hop(5, "10.1.3.10", 53.6, true)]);
  const lookups = new Map([["10.0.0.48/29", [ann("iep3", "10.1.3.10", 49.8)]]]);
  const opts = { selfNodeId: "iep1", now: NOW, measured: new Map([["iep3", 54]]) };
  const near = [{ routerId: "10.0.0.48/29", ttl: 2, rttMs: 10.2 }];

  test("a node announced at this node's second hop is found there and estimated along the tree", () => {
    const ranked = rankCandidates(toUd1, pathRouters(toUd1, 29), lookups, { ...opts, tree: { nodeTraces: new Map([["iep3", toIep3]]), routerMask: 29, near } });
    expect(ranked).toEqual([{ nodeId: "iep3", address: "10.1.3.10", peerPort: 4101, estimatedRttMs: 50.4, via: "10.1.1.0/29" }]); // (53.6 - 4) + (4.8 - 4)
  });

  test("not without this node's trace of it: nothing on the client's path says how far it is", () => {
    expect(rankCandidates(toUd1, pathRouters(toUd1, 29), lookups, { ...opts, tree: { nodeTraces: new Map(), routerMask: 29, near } })).toEqual([]);
  });
});
