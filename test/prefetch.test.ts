/**
 * Prefetch: a node offered an ICON's image fetches the layers it lacks in the background, so a
 * later migration there is prefetched (create + start) instead of cold. Two real Docker engines (the
 * testbed's per-host engines), the peer protocol on loopback. What went over the wire is checked:
 * only the application layer (the base is on both engines), and exactly its stored compressed bytes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peerTag } from "../src/images/archive.ts";
import { engineImageHost } from "../src/images/engine-host.ts";
import { ImageShipping } from "../src/images/images.ts";
import { OP_LAYERS } from "../src/images/ship.ts";
import { silentLogger } from "../src/log.ts";
import { generateIdentity } from "../src/identity/identity.ts";
import { Admission } from "../src/peer/admission.ts";
import { OP } from "../src/peer/ops.ts";
import { ReplicateTarget } from "../src/peer/replicate-target.ts";
import { signManifest } from "../src/yard/manifest.ts";
import { copyImage, dockerSocket, down, parseTopology, up, type TestbedStatus } from "../src/testbed/index.ts";
import type { ContainerEngine } from "../src/engine/container-engine.ts";
import { tarStream } from "../src/util/tar.ts";
import { describeWith } from "./support/needs.ts";
import { CONFIG_DEFAULTS } from "./support/memory-yard.ts";
import { loopbackNetworks } from "./support/peers.ts";
import { unusedQuota } from "./support/replicate-nodes.ts";

const NAME = "t-prefetch";
const BASE = "icon-testbed-pause:latest";
const APP = "icon-test-prefetch:1";

describeWith(["root", "docker"], "prefetch", () => {
  let st: TestbedStatus;
  const { network, stopAll } = loopbackNetworks();
  let source: ContainerEngine;
  let target: ContainerEngine;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "icon-prefetch-"));
    await down(NAME);
    const topology = parseTopology({ hosts: ["IEP1", "IEP2"], routers: ["r"], links: [{ a: "IEP1", b: "r", delayMs: 1 }, { a: "r", b: "IEP2", delayMs: 1 }] }, "prefetch");
    st = await up({ name: NAME, topology, docker: true, engines: true });
    const { createDockerEngine } = await import("../src/engine/docker-engine.ts");
    for (const h of ["IEP1", "IEP2"]) await copyImage(BASE, { to: dockerSocket(st, h) });
    source = await createDockerEngine(dockerSocket(st, "IEP1"));
    target = await createDockerEngine(dockerSocket(st, "IEP2"));
    const context = tarStream([
      { path: "Dockerfile", type: "file", mode: 0o644, data: `FROM ${BASE}\nCOPY app.js /app/app.js\n` },
      { path: "app.js", type: "file", mode: 0o644, data: "console.log('an application layer')\n".repeat(100) },
    ]);
    await source.buildImage(context, { tags: [APP] });
  }, 120_000);
  afterAll(async () => {
    await stopAll();
    await down(NAME);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  test("an offered image is fetched in the background: only its missing layer travels, verified, named by id only", async () => {
    const owner = generateIdentity();
    const [a, b] = [await network(owner), await network()];
    const meta = (await engineImageHost(source).inspectImage(APP))!;
    const shipping = (engine: ContainerEngine, name: string) =>
      new ImageShipping({ host: engineImageHost(engine), config: { ...CONFIG_DEFAULTS, dataDir: join(dir, name) }, iconImages: async () => new Set([meta.id]), log: silentLogger });
    const from = shipping(source, "source");
    const to = shipping(target, "target");
    await Promise.all([from.open(), to.open()]);
    // What the target asks for and what the source sends, counted on the source's side of the wire.
    const asked: unknown[] = [];
    let sent = 0;
    a.handle(OP_LAYERS, (body, ctx) => {
      asked.push((body as { want: unknown }).want);
      return from.source.serve(body, { ...ctx, sendData: (chunk) => ((sent += chunk.length), ctx.sendData(chunk)) });
    });
    const admission = await Admission.open("/nonexistent", "open"); // open: no file is read or written
    const replicas = new ReplicateTarget({ nodeId: b.nodeId, network: b, yard: () => Promise.reject(new Error("no yard in this test")), images: engineImageHost(target), shipping: to, admission, quota: unusedQuota(), log: silentLogger });
    b.onMessage(OP.offer, replicas.offer);

    expect(await target.inspectImage(meta.id)).toBeUndefined();
    const conn = await a.connect({ nodeId: b.nodeId, address: "127.0.0.1", port: b.port });
    // The offer names the image by a tag the target must not take: only its id counts.
    const manifest = signManifest(owner, { name: "app", imageId: meta.id, env: {}, policy: {} });
    conn.notify(OP.offer, { icon: "app", image: { ref: APP, id: meta.id, diffIds: meta.diffIds, repoTags: [APP] }, manifest });

    let got;
    for (let i = 0; i < 200 && !(got = await target.inspectImage(meta.id)); i++) await Bun.sleep(50);
    expect(got?.id).toBe(meta.id);
    expect(got?.diffIds).toEqual(meta.diffIds);
    expect(got?.repoTags).toEqual([peerTag(meta.id)]);
    expect(await target.inspectImage(APP)).toBeUndefined();
    const appLayer = from.store.layer(meta.diffIds[1]!)!;
    expect(asked).toEqual([[meta.diffIds[1]]]); // the base layer (held by both engines) never travelled
    expect(sent).toBe(appLayer.bytes);
    expect(to.status().accepted.bytes).toBe(appLayer.bytes);
    expect(to.store.layer(meta.diffIds[1]!)?.bytes).toBe(appLayer.bytes); // kept, verified, to serve on
  }, 60_000);
});
