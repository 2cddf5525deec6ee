/**
 * Finding 9: any image in the engine is served. A peer asks `image.layers` for the id of an image the
 * target's engine holds but no ICON of it runs (the operator's own `debian:12`), and asks for an ICON's
 * image over and over. A node that serves any image by id leaks the operator's images, and one that
 * buffers a whole `docker save` per request (32 kept) runs out of memory on large images.
 * The target must refuse the operator's image (NOT_FOUND), serve an ICON's image from its layer store
 * on disk (each layer kept once), and refuse a peer past its hourly bytes (QUOTA).
 * (src/bench/hostile/serve-any-image.ts is the attack.)
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { serveAnyImage } from "../../src/bench/hostile/serve-any-image.ts";
import { MemoryEngine } from "../../src/engine/memory-engine.ts";
import { iconProgram } from "../support/memory-yard.ts";
import { imageTarget, type ImageTargetNode } from "./support/image-target.ts";

let targets: ImageTargetNode[] = [];
afterEach(async () => {
  await Promise.all(targets.map((t) => t.close()));
  targets = [];
});

/** Bytes that do not compress: each serving of the ICON's layer costs about this much of the quota. */
const noise = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("base64");

describe("finding 9: a node serves only the images of its own ICONs", () => {
  test("an image the operator holds but no ICON runs is refused (NOT_FOUND), and counted", async () => {
    const engine = new MemoryEngine();
    const debian = await engine.addImage("debian:12", { layers: ["the operator's debian"] });
    const t = await imageTarget({ engine });
    targets.push(t);
    const r = await serveAnyImage({ target: t.endpoint, image: debian, icon: false, attempts: 2 });
    expect(r.succeeded).toBe(0);
    expect(r.refused).toBe(2);
    expect(r.detail[0]).toContain("NOT_FOUND: this node runs no ICON of image");
    expect(t.shipping.status().served.refusedNotServed).toBe(2);
  });

  test("an ICON's image is served from the layer store, each layer kept once on disk, until the peer's hourly quota", async () => {
    const engine = new MemoryEngine();
    const app = await engine.addImage("app:1", { layers: [noise(3000)] }); // about 3 KB compressed (base64 of noise)
    engine.program("app:1", iconProgram());
    const t = await imageTarget({ engine, config: { imageBytesOutPerHour: "7k" } });
    targets.push(t);
    await t.yard.run({ image: "app:1", name: "web" });
    const r = await serveAnyImage({ target: t.endpoint, image: app, icon: true, attempts: 4 });
    expect(r.succeeded).toBe(0);
    expect(r.contained).toBe(2); // 2 x ~3 KB fit in 7 KB ...
    expect(r.detail.slice(2).every((d) => d.startsWith("refused: QUOTA: "))).toBe(true); // ... the rest do not
    expect(t.shipping.status().served.refused).toBe(2);
    const stored = (await readdir(join(t.dataDir, "layers"))).filter((f) => f.endsWith(".zst"));
    expect(stored).toEqual([`${app.diffIds[0]!.slice(7)}.${(await engine.inspectImage("app:1"))!.size}.zst`]);
  });
});
