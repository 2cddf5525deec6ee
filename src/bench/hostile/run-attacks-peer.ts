/**
 * The peer-port attacks (finding 8) from the attacker host: connection and half-open floods from one /24
 * and from 20, fresh ids claiming a victim's endpoint, plain GETs. A flood holds its connections for a few
 * seconds (honest migrations meet the full table), and is judged by whether a newcomer from another /24
 * still gets in, as test/hostile/08 judges it.
 */
import { answer } from "../../api/client.ts";
import { claimEndpoints, floodPeerConnections, floodPeerInfo, victimListener } from "./peer-attacks.ts";
import { attackerDial } from "./peer-dial.ts";
import type { AttackReport } from "./report.ts";
import type { BenchAttack } from "./run-attack.ts";
import { peerEndpoint, type AttackContext } from "./run-context.ts";
import type { HostileTarget } from "./run-spec.ts";

const BOTH = ["origin", "edge"] as const;
/** How long a flood holds what it got. */
const HOLD_MS = 5000;

async function flood(ctx: AttackContext, t: HostileTarget, sources: string[], connections: number, halfOpen = false): Promise<AttackReport> {
  const f = await floodPeerConnections({ target: peerEndpoint(t), sources, connections, halfOpen });
  try {
    await Bun.sleep(HOLD_MS);
    const newcomer = await attackerDial({ target: peerEndpoint(t), localAddress: ctx.addr.dht(20) }).then(
      ({ ok, ws }) => (ws.close(), ok),
      () => false,
    );
    const other = t.role === "origin" ? ctx.target("edge") : ctx.target("origin");
    const honest = await answer(ctx.api(t).v1.peers.$get()).then((ps) => ps.some((p) => p.nodeId === other.nodeId), () => false);
    const { report } = f;
    return { ...report, outcome: newcomer ? report.outcome : "succeeded", detail: { ...report.detail, newcomerFromAnother24: newcomer, honestPeerConnected: honest } };
  } finally {
    f.release();
  }
}

/** A TCP listener for the victim whose endpoint fresh ids claim: kept for the whole run (a restart redials saved endpoints). */
async function victim(ctx: AttackContext) {
  let v = ctx.kept.get("claimed victim") as Awaited<ReturnType<typeof victimListener>> | undefined;
  if (!v) ctx.kept.set("claimed victim", (v = await victimListener(ctx.addr.victim(22))));
  return v;
}

export const PEER_ATTACKS: BenchAttack[] = [
  { name: "peer-connection-flood (600 ids, one /24)", finding: 8, at: [...BOTH], run: (ctx, t) => flood(ctx, t, ctx.addr.oneNet(250), 600) },
  { name: "peer-handshake-flood (300 half-open, one /24)", finding: 8, at: [...BOTH], run: (ctx, t) => flood(ctx, t, ctx.addr.oneNet(250), 300, true) },
  { name: "peer-connection-flood (520 ids, 20 /24s)", finding: 8, at: [...BOTH], run: (ctx, t) => flood(ctx, t, ctx.addr.manyNets(520), 520) },
  {
    name: "peer-endpoint-claims", finding: 8, at: [...BOTH],
    run: async (ctx, t) => {
      const v = await victim(ctx);
      const r = await claimEndpoints({ target: peerEndpoint(t), claim: v.endpoint, ids: 20, localAddress: ctx.addr.oneNet(1)[0] });
      // Counted over the whole run: the edge restarts before every hot and cold sample.
      return { ...r, outcome: v.dials() ? "succeeded" : "refused", detail: { ...r.detail, victimDialled: v.dials() } };
    },
  },
  { name: "peer-info-flood", finding: 8, at: [...BOTH], run: (ctx, t) => floodPeerInfo({ target: peerEndpoint(t), requests: 2000, parallel: 32 }) },
];
