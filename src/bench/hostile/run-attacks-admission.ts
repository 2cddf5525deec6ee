/**
 * The attacks on admission and quotas (finding 3), local files (13) and replica names (14): the rows of
 * ADMISSION_ATTACKS, run against the node that fits each (the origin is open, as by default; the edge
 * admits the origin's owner only, unless the bench was told to leave it open). Replicas that run are
 * real containers of the sample ICON's image, which the origin holds: an owner may name an image a node
 * holds for another (docs/threat-model.md names it).
 */
import { answer } from "../../api/client.ts";
import { QUOTA_DEFAULTS } from "../../config/schema.ts";
import { quotaFrom } from "../../config/quota.ts";
import { generateIdentity, type Identity } from "../../identity/identity.ts";
import { silentLogger } from "../../log.ts";
import { IconStore } from "../../yard/store.ts";
import { ADMISSION_ATTACKS } from "./admission-table.ts";
import { attackerNetwork, plainImage, serveImage } from "./image-peer.ts";
import { probeLocalFiles } from "./local-files.ts";
import { manifestForgery } from "./manifest-forgery.ts";
import { ReplicateAttacker } from "./replicate-attacker.ts";
import { floodOutcome, replicateFlood, type FloodResult } from "./replicate-flood.ts";
import { grindNodeIdPrefix } from "./replica-name-collision.ts";
import type { AttackReport } from "./report.ts";
import type { BenchAttack } from "./run-attack.ts";
import { peerEndpoint, type AttackContext } from "./run-context.ts";
import type { HostileTarget } from "./run-spec.ts";

const cap = (defaults: readonly string[]) => quotaFrom(defaults, defaults).replicas;
const row = (i: number) => ADMISSION_ATTACKS[i]!;

/** A replicate attacker on a fresh node key, signing as `owner`; stopped after `f`. */
async function asAttacker<R>(owner: Identity, f: (a: ReplicateAttacker) => Promise<R>, serve?: Awaited<ReturnType<typeof plainImage>>): Promise<R> {
  const net = await attackerNetwork();
  if (serve) serveImage(net, serve);
  try {
    return await f(new ReplicateAttacker(net, owner));
  } finally {
    await net.stop();
  }
}

function flooded(i: number, r: FloodResult, limit: number, extra: AttackReport["detail"] = {}): AttackReport {
  return { finding: 3, attack: row(i).attack, outcome: floodOutcome(r, limit), detail: { sent: r.sent, ran: r.ran, limit, refused: JSON.stringify(r.refused), ...extra } };
}

async function replicasOn(ctx: AttackContext, t: HostileTarget) {
  return (await answer(ctx.api(t).v1.icons.$get({ query: { all: "1" } }))).filter((v) => v.role === "replica");
}

/** Many fresh owners and nodes, one replica each: all together no more than quotaTotal. */
async function sybil(ctx: AttackContext, t: HostileTarget): Promise<AttackReport> {
  const total: FloodResult = { sent: 0, ran: 0, refused: {}, ms: 0 };
  let next = 0;
  const worker = async () => {
    while (next < 40) {
      const i = next++;
      const r = await asAttacker(generateIdentity(), (a) => replicateFlood(a, peerEndpoint(t), { image: ctx.spec.app, count: 1, prefix: `sybil-${ctx.round}-${i}` }));
      total.sent += r.sent;
      total.ran += r.ran;
      for (const [code, n] of Object.entries(r.refused)) total.refused[code] = (total.refused[code] ?? 0) + n;
    }
  };
  await Promise.all([1, 2, 3, 4].map(worker));
  const limit = cap(QUOTA_DEFAULTS.total);
  const running = (await replicasOn(ctx, t)).length;
  return { ...flooded(3, total, limit, { replicasOnTheNode: running }), outcome: running > limit ? "succeeded" : total.ran ? "contained" : "refused" };
}

/** Replicas of an image that fails at once: none may stay behind holding its port. */
async function crashing(ctx: AttackContext, t: HostileTarget): Promise<AttackReport> {
  const image = await plainImage({ "crash.txt": `no program here ${crypto.randomUUID()}` });
  const ref = { ref: "crash:1", id: image.id, diffIds: image.diffIds };
  return asAttacker(generateIdentity(), async (a) => {
    const r = await replicateFlood(a, peerEndpoint(t), { image: ref, count: 10, concurrency: 2, prefix: `crash-${ctx.round}` });
    const kept = (await replicasOn(ctx, t)).filter((v) => v.parent?.startsWith(a.network.nodeId) && v.state === "FAILED").length;
    return { ...flooded(4, r, 0, { failedReplicasKept: kept }), outcome: kept ? "succeeded" : floodOutcome(r, 0) };
  }, image);
}

/** Every forgery of the origin's root manifest (as any node hosting one of its replicas holds it). */
async function forgery(ctx: AttackContext, t: HostileTarget): Promise<AttackReport> {
  const origin = ctx.target("origin");
  const captured = (await new IconStore(origin.dataDir, silentLogger).loadAll()).find((r) => r.name === ctx.spec.rootIcon)?.manifest;
  if (!captured) throw new Error(`the origin's ICON ${ctx.spec.rootIcon} has no manifest to capture`);
  const own = await plainImage({ "evil.txt": `the attacker's own image ${crypto.randomUUID()}` });
  return asAttacker(generateIdentity(), async (a) => {
    const answers = await manifestForgery(a, peerEndpoint(t), { captured, image: { ref: "evil:1", id: own.id, diffIds: own.diffIds }, env: {} });
    const taken = Object.entries(answers).filter(([, x]) => x.ok).map(([k]) => k);
    const codes = Object.entries(answers).map(([k, x]) => `${k}: ${x.ok ? "ran" : x.code}`).join("; ");
    return { finding: 3, attack: row(5).attack, outcome: taken.length ? "succeeded" : "refused", detail: { answers: codes } };
  }, own);
}

const onlyAllowlist = (ctx: AttackContext) => (ctx.target("edge").admission === "allowlist" ? undefined : "the edge is open (--edge-admission open): no node here refuses strangers");

export const ADMISSION_BENCH_ATTACKS: BenchAttack[] = [
  {
    name: row(0).attack, finding: 3, at: ["edge"], skip: onlyAllowlist,
    run: async (ctx, t) => flooded(0, await asAttacker(generateIdentity(), (a) => replicateFlood(a, peerEndpoint(t), { image: ctx.spec.app, count: 20, prefix: `stranger-${ctx.round}` })), 0),
  },
  {
    name: row(1).attack, finding: 3, at: ["origin"],
    run: async (ctx, t) => flooded(1, await asAttacker(generateIdentity(), (a) => replicateFlood(a, peerEndpoint(t), { image: ctx.spec.app, count: 8, prefix: `peer-${ctx.round}` })), cap(QUOTA_DEFAULTS.perPeer)),
  },
  {
    name: row(2).attack, finding: 3, at: ["origin"],
    run: async (ctx, t) => {
      // One owner for the whole run: its quota holds over every round, whatever node asks.
      let owner = ctx.kept.get("owner") as Identity | undefined;
      if (!owner) ctx.kept.set("owner", (owner = generateIdentity()));
      const runs = await Promise.all([0, 1, 2].map((i) => asAttacker(owner!, (a) => replicateFlood(a, peerEndpoint(t), { image: ctx.spec.app, count: 4, concurrency: 1, prefix: `owner-${ctx.round}-${i}` }))));
      const ran = ((ctx.kept.get("owner ran") as number | undefined) ?? 0) + runs.reduce((s, r) => s + r.ran, 0);
      ctx.kept.set("owner ran", ran);
      const r = { sent: 12, ran, refused: Object.fromEntries(runs.flatMap((x) => Object.entries(x.refused))), ms: 0 };
      return flooded(2, r, cap(QUOTA_DEFAULTS.perOwner), { ranThisRun: "counted over every round" });
    },
  },
  { name: row(3).attack, finding: 3, at: ["origin"], run: sybil },
  { name: row(4).attack, finding: 3, at: ["origin"], run: crashing },
  { name: row(5).attack, finding: 3, at: ["edge"], run: forgery },
  {
    name: row(7).attack, finding: 13, at: ["origin", "edge"],
    run: async (_ctx, t) => {
      const exposed = await probeLocalFiles(t.dataDir);
      return { finding: 13, attack: row(7).attack, outcome: exposed.length ? "succeeded" : "refused", detail: { exposed: exposed.map((e) => `${e.path} ${e.mode}`).join(", ") || "none" } };
    },
  },
  {
    name: row(8).attack, finding: 14, at: ["origin"],
    run: async (_ctx, t) => {
      // Replica names hash the whole parent id: a collision needs all 40 hex digits, not the 8 of old.
      const g = grindNodeIdPrefix(t.nodeId.slice(0, 8), 1000);
      return { finding: 14, attack: row(8).attack, outcome: "refused", detail: { keysPerSecond: Math.round(g.perSecond), oldNamesHours: Math.round(g.expectedSec(8) / 3600), nowYears: Number((g.expectedSec(40) / (365 * 86400)).toPrecision(3)) } };
    },
  },
];
