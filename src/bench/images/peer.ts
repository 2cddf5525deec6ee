/**
 * One side of the image shipping measurement, in a process of its own (`icon bench images-peer`), so
 * that each side can run in its own testbed host and the receiver's memory is its own. Both sides
 * print JSON lines: the source `{ready, nodeId, port}` once its image is in its layer store; the
 * target one `{sample}` per fetch, then `{done}`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDockerEngine } from "../../engine/docker-engine.ts";
import { IconError } from "../../errors.ts";
import { generateIdentity } from "../../identity/identity.ts";
import { engineImageHost } from "../../images/engine-host.ts";
import { LayerStore } from "../../images/layer-store.ts";
import { ByteQuota } from "../../images/quota.ts";
import { fetchImage } from "../../images/receive.ts";
import { OP_LAYERS } from "../../images/ship.ts";
import { LayerSource } from "../../images/source.ts";
import { silentLogger } from "../../log.ts";
import { PeerNetwork, type PeerEndpoint } from "../../peer/network.ts";

export interface ShipSample {
  /** Request sent to image loaded (verified, in the engine). */
  ms: number;
  /** From the start of `docker load` (the declaration) to loaded. */
  loadMs: number;
  bytes: number;
  /** The receiving process's resident memory: before, and its peak while receiving. */
  rssBeforeMb: number;
  rssPeakMb: number;
}

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function network(listen: string): Promise<PeerNetwork> {
  const net = new PeerNetwork({ identity: generateIdentity(), log: silentLogger, listen, port: 0, advertisedAddress: () => listen });
  await net.start();
  return net;
}

/** Serves `image` from a layer store filled beforehand (as a node does when its ICON starts), until SIGTERM. */
export async function runSource(o: { socket: string; listen: string; image: string }): Promise<void> {
  const host = engineImageHost(await createDockerEngine(o.socket));
  const dir = await mkdtemp(join(tmpdir(), "icon-bench-source-"));
  const store = new LayerStore(dir, 2 ** 34, silentLogger);
  await store.open();
  const prep = { id: "" };
  const source = new LayerSource({ host, store, iconImages: async () => new Set([prep.id]), quota: new ByteQuota(0, "served to"), log: silentLogger });
  prep.id = (await source.prepare(o.image)).id;
  const net = await network(o.listen);
  net.handle(OP_LAYERS, source.serve);
  say({ ready: true, nodeId: net.nodeId, port: net.port });
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await net.stop();
  await rm(dir, { recursive: true, force: true });
}

/** Fetches `image` from the source `iterations` times, each time into an engine and a layer store without it. */
export async function runTarget(o: { socket: string; listen: string; source: PeerEndpoint; image: { id: string; diffIds: string[] }; iterations: number }): Promise<void> {
  const engine = await createDockerEngine(o.socket);
  const host = engineImageHost(engine);
  const net = await network(o.listen);
  const conn = await net.connect(o.source);
  const rss = () => process.memoryUsage().rss / 2 ** 20;
  for (let i = 0; i < o.iterations; i++) {
    await engine.removeImage(o.image.id, { force: true });
    const dir = await mkdtemp(join(tmpdir(), "icon-bench-target-"));
    const store = new LayerStore(dir, 2 ** 34, silentLogger);
    await store.open();
    Bun.gc(true);
    const rssBeforeMb = rss();
    let peak = rssBeforeMb;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 5);
    const t0 = performance.now();
    let loadMs = 0;
    const bytes = await fetchImage(conn, o.image, { host, store, quota: new ByteQuota(0, "accepted from"), limits: { maxImageBytes: 2 ** 33 } }, (e) => e.type === "image.loaded" && (loadMs = e.loadMs));
    const ms = performance.now() - t0;
    if (!bytes) throw new IconError("FAILED", "the target's engine already held the layer: nothing travelled", "Remove other images with the same layer from the target's engine.");
    clearInterval(sampler);
    say({ sample: { ms: Math.round(ms), loadMs, bytes, rssBeforeMb: Math.round(rssBeforeMb), rssPeakMb: Math.round(Math.max(peak, rss())) } satisfies ShipSample });
    await rm(dir, { recursive: true, force: true });
  }
  await net.stop();
  say({ done: true });
}
