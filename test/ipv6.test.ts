/**
 * Issue 14's IPv6 test end to end: the thesis network dual stack, nodes on IEP1 (origin) and IEP2 (edge)
 * listening on IPv6 too, and a client on UD that has only IPv6 (its IPv4 address is removed before it
 * connects). The origin traces the client over IPv6 (ICMPv6), looks up the routers' /64 ids, finds the
 * edge closest at its announced IPv6 address, replicates the sample ICON there, and the client is
 * redirected to the edge's IPv6 address with its state.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { answer } from "../src/api/client.ts";
import { MigrationLab } from "../src/lab/lab.ts";
import { address6, inHost } from "../src/testbed/index.ts";
import { describeWith } from "./support/needs.ts";
import { sh } from "./support/run.ts";

describeWith(["root", "docker", "binary"], "IPv6: an IPv6-only client on the thesis network", () => {
  let lab: MigrationLab;
  let udAddress: string, udRoutes: string[];
  beforeAll(async () => {
    // The default quorum of two networks (the lab's default of one would hide verifiers lumped into one /48).
    lab = await MigrationLab.open({ name: "t-ipv6", ipv6: true, nodeEnv: { ICON_REACHABILITY_QUORUM: "2" } });
    // From here on the client has no IPv4 address at all (until the last test gives it back).
    udAddress = /inet (\S+)/.exec(sh(inHost(lab.st, "UD", ["ip", "-4", "-o", "addr", "show", "dev", "eth0"])).stdout.toString())![1]!;
    udRoutes = sh(inHost(lab.st, "UD", ["ip", "-4", "route", "show"])).stdout.toString().trim().split("\n").filter((l) => !l.includes("proto kernel"));
    expect(sh(inHost(lab.st, "UD", ["ip", "-4", "addr", "flush", "dev", "eth0"])).exitCode).toBe(0);
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  test("the origin finds the edge closest to the client's IPv6 address, at the edge's IPv6 address, through /64 router ids", async () => {
    const origin = lab.nodes.get("IEP1").api;
    const edgeId = (await answer(lab.nodes.get("IEP2").api.v1.status.$get())).nodeId;
    const a = await answer(origin.v1.closest.$get({ query: { client: address6(lab.st, "UD"), fresh: "1" } }));
    expect(a.reached).toBe(true);
    expect(a.candidates[0]).toMatchObject({ nodeId: edgeId, address: address6(lab.st, "IEP2") });
    expect(a.candidates[0]!.via).toEndWith("::/64");
    // the client is about 14 ms from the edge and 92 ms from the origin (thesis RTTs, over IPv6 too)
    expect(a.selfRttMs!).toBeGreaterThan(88);
    expect(a.candidates[0]!.estimatedRttMs).toBeLessThan(30);
  });

  test("the client connects to the origin over IPv6 and is migrated to the edge's IPv6 address with its state", async () => {
    const r = await lab.client();
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.stateIntact).toBe(true);
    expect(r.mode).toBe("cold");
    expect(new URL(r.origin).hostname).toBe(`[${address6(lab.st, "IEP1")}]`);
    expect(new URL(r.edge!).hostname).toBe(`[${address6(lab.st, "IEP2")}]`);
    const times = Object.values(r.phasesMs);
    expect(times.length).toBe(9);
    // a second client is sent on at once to the running replica, at the same IPv6 address
    const again = await lab.client();
    expect(again).toMatchObject({ ok: true, mode: "direct", edge: r.edge });
  }, 180_000);

  // Last: a node on UD would be the client's closest. Verifiers are announced nodes: the origin's and this one's.
  test("every host a /48 of its own: nodes in two other /48s dial the edge back over IPv6, and its IPv6 verdict is public", async () => {
    expect(sh(inHost(lab.st, "UD", ["ip", "addr", "add", udAddress, "dev", "eth0"])).exitCode).toBe(0);
    // The gateway lies outside the host's /24 (its router's /29): onlink, as the testbed made it.
    for (const r of udRoutes) {
      const args = r.trim().split(/\s+/);
      if (args.includes("via") && !args.includes("onlink")) args.push("onlink");
      expect(sh(inHost(lab.st, "UD", ["ip", "route", "replace", ...args])).exitCode, r).toBe(0);
    }
    await lab.startNode("UD", "IEP1");
    const edge = lab.nodes.get("IEP2").api;
    let reach: { ipv6: string; verifiers: { network: string }[] } | undefined;
    for (let i = 0; i < 120 && reach?.ipv6 !== "public"; i++) {
      if (i) await Bun.sleep(500);
      reach = (await answer(edge.v1.status.$get())).reachability as typeof reach;
    }
    expect(reach?.ipv6, JSON.stringify(reach)).toBe("public");
    expect(new Set(reach!.verifiers.map((v) => v.network).filter((n) => n.includes(":"))).size, JSON.stringify(reach)).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
