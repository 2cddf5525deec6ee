/**
 * The image attacks (findings 1, 2 and 9: IMAGE_ATTACKS, and the engine side of finding 1) against both
 * nodes, attempts back to back. The bench looks at a node's own engine for what an attack made it load,
 * and at the operator's engine for what it must never touch.
 */
import { composeLoad, sha256 } from "../../images/archive.ts";
import { createDockerEngine } from "../../engine/docker-engine.ts";
import { tarBytes } from "../../util/tar.ts";
import { runtimeTag, RUNTIME_REPO } from "../../yard/runtime-image.ts";
import { ENGINE_ATTACKS } from "./engine-attacks.ts";
import { IMAGE_ATTACKS, type ImageTarget } from "./image-table.ts";
import { within } from "./image-peer.ts";
import { fromAttempts, type BenchAttack } from "./run-attack.ts";
import { peerEndpoint, type AttackContext } from "./run-context.ts";
import type { HostileTarget } from "./run-spec.ts";

/**
 * Attempts per round: a tag hijack watches 3 s for its load; the bombs are cheap; serving an ICON's image
 * sends all of it (the runtime base too, 30 MB) over the origin's side of the 10 Mbit/s core link.
 */
const ATTEMPTS: Record<number, number> = { 1: 2, 2: 3, 9: 2 };

async function imageTarget(ctx: AttackContext, t: HostileTarget): Promise<ImageTarget> {
  const engine = await ctx.engine(t);
  const image = async (ref: string) => {
    const i = await engine.inspectImage(ref).catch(() => undefined);
    return i && { id: i.id, diffIds: i.diffIds };
  };
  await ctx.pidOf(t);
  const operatorImage = await image(`${RUNTIME_REPO}:${runtimeTag()}`);
  if (!operatorImage) throw new Error(`the ${t.role}'s engine holds no ${RUNTIME_REPO}:${runtimeTag()} (the bench copies it there)`);
  return {
    endpoint: peerEndpoint(t),
    imageOf: async (ref) => (await image(ref))?.id,
    rss: () => ctx.rss(t),
    victimTags: ctx.spec.victimTags,
    operatorImage,
    iconImage: await image(ctx.spec.app.id),
  };
}

/** A tiny image of the attacker's, as `docker save` would give it. */
async function offeredArchive(): Promise<Uint8Array> {
  const layer = await tarBytes([{ path: "pwned.txt", type: "file", mode: 0o644, data: `an attacker's image ${crypto.randomUUID()}\n` }]);
  const diffId = sha256(layer);
  const config = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [diffId] } }));
  return tarBytes(composeLoad({ id: sha256(config), config, diffIds: [diffId], repoTags: [], layers: new Map([[diffId, layer]]) }));
}

const [userTags] = ENGINE_ATTACKS;

/** Finding 1, engine side: an offer claiming the operator's own tag; the operator's engine must not change. */
async function operatorTag(ctx: AttackContext, t: HostileTarget) {
  const operator = await createDockerEngine(ctx.spec.operatorEngine);
  const tag = ctx.spec.operatorTag;
  const ownerId = (await operator.inspectImage(tag))?.id ?? "";
  const { attacker, imageId } = await userTags.attack({ target: peerEndpoint(t), archive: await offeredArchive(), claimTags: [tag] });
  try {
    // The node fetches an offer in the background: watch its engine and the operator's for 10 s.
    const engine = await ctx.engine(t);
    const landed = await within(10_000, async () => ((await engine.inspectImage(imageId).catch(() => undefined)) ?? (await operator.inspectImage(imageId)) ? true : undefined));
    const outcome = await userTags.outcome(operator, { tag, ownerId, imageId });
    return { finding: 1, attack: userTags.name, outcome, detail: { tag, loadedByTheNode: landed === true, operatorTagUnchanged: (await operator.inspectImage(tag))?.id === ownerId } };
  } finally {
    await attacker.stop();
  }
}

export const IMAGE_BENCH_ATTACKS: BenchAttack[] = [
  ...IMAGE_ATTACKS.map((a): BenchAttack => ({
    name: a.attack, finding: a.finding, at: ["origin", "edge"],
    run: async (ctx, t) => ({ ...fromAttempts(await a.run(await imageTarget(ctx, t), ATTEMPTS[a.finding]!)), attack: a.attack }),
  })),
  { name: "user-engine-tags (an offer claiming the operator's tag)", finding: 1, at: ["origin", "edge"], run: operatorTag },
];
