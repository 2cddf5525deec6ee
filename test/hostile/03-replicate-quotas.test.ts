/**
 * Finding 3, quotas: a node ran every replica it was asked for, with no cap per owner, per requesting
 * node or in total, and a replica that failed kept its port for good, so about a thousand quickly
 * failing requests (portRange holds 1000 ports) shut the node out of hosting.
 * - One key asks for replica after replica (src/bench/hostile/replicate-flood.ts).
 * - One owner asks through three nodes (fresh node keys are free).
 * - Many fresh owners and nodes (a Sybil) ask once each.
 * - A flood of replicas that crash at once (30 against a 10-port range), then an honest replicate.
 * In-memory engines, real peer websockets on loopback; test nodes have portRange 20000-20009.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { floodOutcome, replicateFlood } from "../../src/bench/hostile/replicate-flood.ts";
import { generateIdentity } from "../../src/identity/identity.ts";
import { crashProgram, iconProgram } from "../support/memory-yard.ts";
import { endpointOf } from "../support/peers.ts";
import { attacker, held, replicas } from "./support/replicate-plumbing.ts";
import { APP_ID, replicateNodes, to } from "../support/replicate-nodes.ts";

const { node, origin, network, closeAll } = replicateNodes();
afterEach(closeAll);

describe("finding 3: how much a node runs for others", () => {
  test("one requesting node gets at most quotaPerPeer replicas (4 by default); the rest is refused with QUOTA", async () => {
    const t = await node();
    const r = await replicateFlood(await attacker(network), endpointOf(t.net), { image: await held(t, "evil:1"), count: 8 });
    expect(r).toMatchObject({ ran: 4, refused: { QUOTA: 4 } });
    expect(floodOutcome(r, 4)).toBe("contained");
    expect(replicas(t).length).toBe(4);
    expect(t.target.refused().quotaPerPeer).toBe(4);
  });

  test("one owner through three nodes gets at most quotaPerOwner replicas (8 by default)", async () => {
    const t = await node();
    const image = await held(t, "evil:1");
    const owner = generateIdentity();
    const runs = await Promise.all([0, 1, 2].map(async (i) => replicateFlood(await attacker(network, owner), endpointOf(t.net), { image, count: 4, prefix: `via${i}`, concurrency: 1 })));
    expect(runs.reduce((s, r) => s + r.ran, 0)).toBe(8);
    expect(runs.reduce((s, r) => s + (r.refused.QUOTA ?? 0), 0)).toBe(4);
  });

  test("fresh owners and nodes together get at most quotaTotal replicas", async () => {
    const t = await node({ quotas: { total: ["replicas=3"] } });
    const image = await held(t, "evil:1");
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(await replicateFlood(await attacker(network), endpointOf(t.net), { image, count: 1, prefix: `sybil${i}` }));
    expect(runs.map((r) => r.ran)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(runs.slice(3).map((r) => r.refused)).toEqual([{ QUOTA: 1 }, { QUOTA: 1 }, { QUOTA: 1 }]);
  });

  test("replicas that fail give their ports back: after 30 failing requests an honest replicate runs", async () => {
    const t = await node();
    const image = await held(t, "crash:1", crashProgram(1, "crashing at once"));
    const flood = await replicateFlood(await attacker(network), endpointOf(t.net), { image, count: 30, concurrency: 1 });
    expect(flood).toMatchObject({ ran: 0, refused: { FAILED: 30 } });
    expect(t.my.yard.list(true)).toEqual([]);

    const o = await origin();
    t.engine.program(APP_ID, iconProgram());
    expect(await (await o.icon.replicate(to(t))).running).toMatchObject({ address: "127.0.0.1" });
  });
});
