/**
 * The DHT and announcement attacks (findings 4, 5, 11, 12) as `icon bench hostile` runs them from the
 * attacker host, each against a node's real DHT port, judged by what the node then holds or believes
 * (its status, routing table, the canary value, the origin's ranking of candidates for the client).
 */
import { randomBytes } from "node:crypto";
import { answer } from "../../api/client.ts";
import { Flag, MsgType, TOKEN_BYTES } from "../../dht/codec.ts";
import { Dht } from "../../dht/dht.ts";
import { fromHex, keyOf, valueKey } from "../../dht/id.ts";
import { UdpTransport } from "../../dht/transport/udp.ts";
import { plausibleClaim } from "../../topology/estimate.ts";
import { forgeAnnouncement, groundIdentity, routerKey } from "./announce-capture.ts";
import { floodNearId, lockValue, RawDhtPeer, reflectThroughNodes, replayRequestProof, spoofedRequests, storeWithoutToken, sybilVotes } from "./dht-attacks.ts";
import type { AttackReport } from "./report.ts";
import { using, worse, type BenchAttack } from "./run-attack.ts";
import { dhtEndpoint, type AttackContext } from "./run-context.ts";
import { CANARY_KEY, canaryValue, type HostileTarget } from "./run-spec.ts";

const BOTH = ["origin", "edge"] as const;
const other = (ctx: AttackContext, t: HostileTarget) => ctx.target(t.role === "origin" ? "edge" : "origin");
const randomKey = () => `hostile-${randomBytes(6).toString("hex")}`;

/** Sybil votes for the external address, 64 fresh ids from `networks` /24s (the quorum is 3 /24s). */
async function votes(ctx: AttackContext, t: HostileTarget, networks: number): Promise<AttackReport> {
  const claim = { address: ctx.addr.victim(0), port: t.dhtPort };
  let answered = 0, pinged = 0;
  for (const source of ctx.addr.voters(networks)) {
    const r = await sybilVotes({ target: dhtEndpoint(t), claim, ids: 64 / networks, source, externalAddress: () => undefined });
    answered += r.detail.answered as number;
    pinged += r.detail.pinged as number;
  }
  const learned = (await ctx.status(t)).dht.externalAddress;
  const fooled = learned === `${claim.address}:${claim.port}`;
  return { finding: 5, attack: "dht-sybil-votes", outcome: fooled ? "succeeded" : "refused", detail: { networks, ids: 64, answered, pinged, externalAddress: learned ?? "none learned" } };
}

/** Records under keys next to the node's id from 4 addresses at once; the other node's canary must stay. */
async function nearId(ctx: AttackContext, t: HostileTarget): Promise<AttackReport> {
  const o = other(ctx, t);
  const held = async () => (await ctx.dhtGet(t, CANARY_KEY, o.nodeId))?.source ?? "nowhere";
  const before = (await ctx.canary(t, o))?.source ?? "nowhere";
  const peers = await Promise.all([1, 2, 3, 4].map((i) => RawDhtPeer.udp(ctx.addr.dht(i))));
  try {
    const runs = await Promise.all(peers.map((attacker) => floodNearId({ attacker, target: dhtEndpoint(t), targetId: fromHex(t.nodeId), records: 150, survived: () => true })));
    const stored = runs.reduce((a, r) => a + (r.detail.stored as number), 0);
    const after = await held();
    // Only a canary the node held itself can be evicted from it.
    const survived = before !== "local" || after === "local";
    return { finding: 11, attack: "dht-store-near-id", outcome: !survived ? "succeeded" : stored ? "contained" : "refused", detail: { records: 600, stored, canaryBefore: before, canaryAfter: after } };
  } finally {
    for (const p of peers) p.close();
  }
}

/**
 * A request proof the other node sent the attacker, replayed at this node after `flood` requests with
 * fresh proofs; it must not file the other node's id under the attacker's address. The attacker gets the
 * proof as any peer can: it makes the other node verify it, and its PONG carries a token and asks for a
 * proof, which the other node then sends at once (bound to the attacker as its receiver).
 */
async function replay(ctx: AttackContext, t: HostileTarget, flood: number): Promise<AttackReport> {
  const o = other(ctx, t);
  const attack = flood ? "dht-proof-replay-after-flood" : "dht-proof-replay";
  return using(RawDhtPeer.udp(ctx.addr.dht(flood ? 7 : 6)), async (mallory): Promise<AttackReport> => {
    mallory.replyToken = new Uint8Array(randomBytes(TOKEN_BYTES));
    mallory.replyFlags = Flag.WANT_PROOF;
    const proved = () => mallory.requests.find((r) => r.from.address === o.address && r.packet.flags & Flag.HAS_PROOF);
    await mallory.ask(dhtEndpoint(o), { type: MsgType.PING });
    mallory.send(dhtEndpoint(o), { type: MsgType.PING }); // the token echoed, no proof: the other node verifies us
    for (let waited = 0; !proved() && waited < 3000; waited += 100) await Bun.sleep(100);
    const captured = proved();
    if (!captured) throw new Error(`the ${o.role} sent the attacker no proof to replay`);
    await mallory.introduce(dhtEndpoint(t));
    const r = await replayRequestProof({ captured: captured.bytes, attacker: mallory, target: dhtEndpoint(t), flood, planted: () => false });
    const peers = await answer(ctx.api(t).v1.dht.peers.$get());
    const planted = peers.some((p) => p.id === o.nodeId && p.address === mallory.endpoint.address);
    return { finding: 11, attack, outcome: planted ? "succeeded" : "refused", detail: { ...r.detail, capturedFrom: o.role, planted } };
  });
}

/** A value of the other node's the node holds, then stored again by the attacker with the largest seq there is. */
async function lock(ctx: AttackContext, t: HostileTarget): Promise<AttackReport> {
  const o = other(ctx, t);
  const read = async () => (await ctx.dhtGet(t, CANARY_KEY, o.nodeId))?.value;
  if ((await ctx.canary(t, o))?.value !== canaryValue(o.role)) throw new Error(`the ${t.role} reads no canary of the ${o.role}'s before the attack: nothing to lock`);
  return using(RawDhtPeer.udp(ctx.addr.dht(5)), (attacker) => lockValue({ attacker, target: dhtEndpoint(t), name: CANARY_KEY, publisher: fromHex(o.nodeId), read, honest: canaryValue(o.role) }));
}

/**
 * NODES replies naming victims (`victims` addresses of one /24, the reply's 20 contacts spread over them),
 * drawn by the node's own lookups.
 */
async function reflection(ctx: AttackContext, t: HostileTarget, victims: number): Promise<AttackReport> {
  const sockets = await Promise.all(Array.from({ length: victims }, (_, i) => UdpTransport.open(ctx.addr.victim(1 + i), 0)));
  // An id next to the key the node will look up: it asks the attacker among the first.
  const key = randomKey();
  const identity = groundIdentity(valueKey(fromHex(t.nodeId), keyOf("value", key)), 10);
  try {
    return await using(RawDhtPeer.udp(ctx.addr.dht(8), identity), (attacker) =>
      reflectThroughNodes({ attacker, target: dhtEndpoint(t), victims: sockets, trigger: () => ctx.dhtGet(t, key, t.nodeId) }));
  } finally {
    for (const v of sockets) v.close();
  }
}

const CLAIM_MS = 0.5;

/**
 * Finding 4: an id ground next to the key of the router nearest the client, announcing that it is 0.5 ms
 * from it (a claim the origin may find plausible: the attacker sits on the client's side of the core).
 * Judged by the origin's ranking of candidates for the client, for up to 10 s while it measures the
 * newcomer; ranked first is contained when the claim lies within the triangle check's band of the
 * origin's own RTTs (a lie the threat model leaves open), succeeded when it does not. The claim is then
 * withdrawn (replaced by one no check passes), so that later migrations meet honest announcements.
 */
async function capture(ctx: AttackContext, t: HostileTarget): Promise<AttackReport> {
  const router = ctx.spec.clientRouters[0]!;
  const dht = new Dht({ identity: groundIdentity(routerKey(router), 12), transport: await UdpTransport.open(ctx.addr.dht(9), 0), bootstrap: [dhtEndpoint(t)] });
  await dht.start();
  try {
    await dht.join();
    const ranked = async () => (await answer(ctx.api(t).v1.closest.$get({ query: { client: ctx.spec.client, fresh: "1" } }))).candidates.map((c) => c.nodeId);
    const r = await forgeAnnouncement({ attacker: dht, routerId: router, rttMs: CLAIM_MS, peerPort: t.peerPort, candidates: ranked });
    let rank = r.detail.rank as number;
    for (let i = 0; i < 10 && rank !== 0; i++) {
      await Bun.sleep(1000);
      rank = (await ranked()).indexOf(dht.nodeId);
    }
    // The origin measured the attacker before ranking it (the finder's ping), but keeps a node that announces
    // nowhere out of its routing table, where the bench reads RTTs: then the attacker's own RTT to the origin
    // stands in for it (the testbed's paths are the same both ways).
    const toAttacker = (await answer(ctx.api(t).v1.dht.peers.$get())).find((p) => p.id === dht.nodeId)?.rttMs ?? (await dht.rttTo(t.nodeId, dhtEndpoint(t)));
    const toRouter = (await answer(ctx.api(t).v1.topology.$get())).routers.find((x) => x.routerId === router)?.rttMs;
    const plausible = toAttacker !== undefined && toRouter !== undefined && plausibleClaim(CLAIM_MS, toAttacker, toRouter);
    const outcome = rank === 0 ? (plausible ? "contained" : "succeeded") : rank < 0 ? "refused" : "contained";
    return { finding: 4, attack: "announce-capture", outcome, detail: { router, claimMs: CLAIM_MS, rank, originToAttackerMs: toAttacker ?? "unmeasured", originToRouterMs: toRouter ?? "unknown", withinTheBand: plausible } };
  } finally {
    await dht.announce(router, { peerPort: t.peerPort, rttMs: 60_000, hops: 1 }).catch(() => {});
    await dht.stop();
  }
}

export const DHT_ATTACKS: BenchAttack[] = [
  { name: "dht-sybil-votes (64 ids, one /24)", finding: 5, at: [...BOTH], run: (ctx, t) => votes(ctx, t, 1) },
  { name: "dht-sybil-votes (64 ids, two /24s)", finding: 5, at: [...BOTH], run: (ctx, t) => votes(ctx, t, 2) },
  {
    name: "dht-store-without-token", finding: 11, at: [...BOTH],
    run: (ctx, t) => using(RawDhtPeer.udp(ctx.addr.dht(0)), async (attacker) => {
      let outcome: AttackReport["outcome"] | undefined, stored = 0;
      for (let i = 0; i < 20; i++) {
        const r = await storeWithoutToken({ attacker, target: dhtEndpoint(t) });
        outcome = worse(outcome, r.outcome);
        if (r.outcome === "succeeded") stored++;
      }
      return { finding: 11, attack: "dht-store-without-token", outcome: outcome!, detail: { stores: 20, stored } };
    }),
  },
  { name: "dht-store-near-id", finding: 11, at: [...BOTH], run: nearId },
  { name: "dht-value-lock", finding: 11, at: [...BOTH], run: lock },
  { name: "dht-proof-replay", finding: 11, at: [...BOTH], run: (ctx, t) => replay(ctx, t, 0) },
  { name: "dht-proof-replay-after-flood", finding: 11, at: [...BOTH], run: (ctx, t) => replay(ctx, t, 3000) },
  { name: "dht-reflection-nodes (one victim)", finding: 12, at: [...BOTH], run: (ctx, t) => reflection(ctx, t, 1) },
  {
    name: "dht-reflection-nodes (20 victims in one /24)", finding: 12, at: [...BOTH], run: (ctx, t) => reflection(ctx, t, 20),
    gap: "the budget for unverified addresses is per IP: a reply naming 20 addresses of one network draws 4 queries at each",
  },
  {
    name: "dht-spoofed-requests", finding: 12, at: [...BOTH],
    run: (ctx, t) => using(UdpTransport.open(ctx.addr.victim(21), 0), (victim) => spoofedRequests({ target: dhtEndpoint(t), victim, count: 100, settleMs: 5000 })),
  },
  { name: "announce-capture", finding: 4, at: ["origin"], run: capture },
];
