/**
 * A hostile node's side of image shipping, built from the project's own peer protocol (a real
 * PeerNetwork with its own key, real websockets): it makes images out of whatever bytes an attack
 * wants, and answers `image.layers` as a lying source would. The answer carries the declaration in
 * both shapes the protocol has had (the `layers` list, and per-layer events with the image's tags
 * before), so one attack runs against a node of either version.
 */
import { generateIdentity } from "../../identity/identity.ts";
import { silentLogger } from "../../log.ts";
import type { RequestContext } from "../../peer/connection.ts";
import { PeerNetwork, type PeerEndpoint } from "../../peer/network.ts";
import { OP } from "../../peer/ops.ts";
import { OP_LAYERS } from "../../images/ship.ts";
import { tarBytes } from "../../util/tar.ts";
import { signManifest } from "../../yard/manifest.ts";

/** What an attack observed, per attempt: the target refused it, contained it, or the attack worked. */
export interface AttackOutcome {
  attack: string;
  finding: number;
  attempts: number;
  refused: number;
  contained: number;
  succeeded: number;
  /** One line per attempt: what the target answered or what the probe saw. */
  detail: string[];
}

export type Verdict = "refused" | "contained" | "succeeded";

export function outcome(attack: string, finding: number): AttackOutcome & { count(v: Verdict, detail: string): void } {
  const o = { attack, finding, attempts: 0, refused: 0, contained: 0, succeeded: 0, detail: [] as string[] };
  return Object.assign(o, {
    count(v: Verdict, detail: string) {
      o.attempts++;
      o[v]++;
      o.detail.push(`${v}: ${detail}`);
    },
  });
}

export interface HostileLayer {
  diffId: string;
  /** The bytes sent for it. */
  z: Uint8Array;
  /** The raw size declared for it. */
  rawBytes: number;
}

export interface HostileImage {
  id: string;
  config: Uint8Array;
  diffIds: string[];
  layers: HostileLayer[];
}

const sha256 = (b: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

/** An image whose config names the given layers (ids are the config's digest, as Docker makes them). */
export function imageOf(layers: HostileLayer[], note = ""): HostileImage {
  const diffIds = layers.map((l) => l.diffId);
  const config = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", config: { Labels: { note } }, rootfs: { type: "layers", diff_ids: diffIds } }));
  return { id: sha256(config), config, diffIds, layers };
}

/** A well-formed one-layer image holding `files` (an attacker's own, honest-looking image). */
export async function plainImage(files: Record<string, string>): Promise<HostileImage> {
  const tar = await tarBytes(Object.entries(files).map(([path, data]) => ({ path, type: "file" as const, mode: 0o644, data })));
  return imageOf([{ diffId: sha256(tar), z: Bun.zstdCompressSync(tar), rawBytes: tar.length }]);
}

/** A started peer network with a fresh key: Sybil identities cost nothing. */
export async function attackerNetwork(): Promise<PeerNetwork> {
  const net = new PeerNetwork({ identity: generateIdentity(), log: silentLogger, listen: "127.0.0.1", port: 0, advertisedAddress: () => "127.0.0.1" });
  await net.start();
  return net;
}

/** How the target is asked to take the image: prefetch it (one-way offer), or run a replica of it. */
export type Entry = "offer" | "replicate";

export function imageRef(image: HostileImage, names: string[]) {
  return { ref: names[0] ?? "app", id: image.id, diffIds: image.diffIds, repoTags: names };
}

export interface ServeOptions {
  /** Tags the answer claims the image has (read by nodes that used to trust them). */
  repoTags?: string[];
  /** Sends the layer bytes (default: each layer's `z` as declared). */
  send?: (ctx: RequestContext, image: HostileImage) => Promise<void>;
}

/** Answers `image.layers` for `image` as a hostile source (the layers asked for); counts the requests it got. */
export function serveImage(net: PeerNetwork, image: HostileImage, o: ServeOptions = {}): { requests: number } {
  const seen = { requests: 0 };
  net.handle(OP_LAYERS, async (body, ctx) => {
    seen.requests++;
    // A target that holds the base layers asks for the rest only (a real ICON image FROM icon-runtime).
    const want = (body as { want?: unknown } | undefined)?.want;
    const asked = Array.isArray(want) ? image.layers.filter((l) => want.includes(l.diffId)) : image.layers;
    const layers = asked.map((l) => ({ diffId: l.diffId, bytes: l.z.length, rawBytes: l.rawBytes }));
    ctx.emit({ type: "image", id: image.id, config: Buffer.from(image.config).toString("base64"), layers, diffIds: image.diffIds, repoTags: o.repoTags ?? [] });
    if (o.send) await o.send(ctx, image);
    else
      for (const l of layers) {
        ctx.emit({ type: "layer", ...l });
        await ctx.sendData(image.layers.find((x) => x.diffId === l.diffId)!.z);
      }
    return { layers: layers.length };
  });
  return seen;
}

/** Asks `target` to take `image` by `entry`; resolves with the target's answer (replicate) or at once (offer). */
export async function deliver(net: PeerNetwork, target: PeerEndpoint, entry: Entry, image: HostileImage, names: string[], attachment?: { inline: unknown; bytes: Uint8Array }): Promise<string> {
  const conn = await net.connect(target);
  const ref = imageRef(image, names);
  // A valid manifest from a fresh owner: what an open node admits, so the attack reaches the image code.
  const manifest = signManifest(generateIdentity(), { name: "app", imageId: image.id, env: {}, policy: {} });
  if (entry === "offer") {
    conn.notify(OP.offer, { icon: "app", image: ref, manifest });
    return "offered";
  }
  const body = { icon: "app", image: ref, env: {}, manifest, ...(attachment ? { inline: attachment.inline } : {}) };
  return conn.request(OP.replicate, body, { timeoutMs: 60_000, attachment: attachment?.bytes }).then(
    () => "replica created",
    (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
  );
}

/** Samples a process's RSS every 5 ms: the peak above the level it started at. */
export function rssGrowth(rss: () => number): { peak(): number; stop(): number } {
  const base = rss();
  let peak = base;
  const t = setInterval(() => (peak = Math.max(peak, rss())), 5);
  return {
    peak: () => peak - base,
    stop() {
      clearInterval(t);
      peak = Math.max(peak, rss());
      return peak - base;
    },
  };
}

/** Polls `f` every 20 ms until it returns something or `ms` pass. */
export async function within<T>(ms: number, f: () => Promise<T | undefined>): Promise<T | undefined> {
  for (const end = Date.now() + ms; ; await Bun.sleep(20)) {
    const v = await f();
    if (v !== undefined || Date.now() > end) return v;
  }
}
