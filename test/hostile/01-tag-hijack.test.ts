/**
 * Finding 1 (image side): tag hijack. A hostile peer offers an image of its own, or asks for a replica
 * of it, naming it `debian:12`, `icon-runtime:<version>` and the operator's own app tag, in the request
 * and in its `image.layers` answer. `docker load` moves existing tags to whatever image an archive's
 * manifest names them for, so a node that loads under the sender's tags hands those names over.
 * The target must load the image under icon.local/peer:<id> only; every victim tag keeps its image.
 * (src/bench/hostile/tag-hijack.ts is the attack; `icon bench hostile` runs it at full rate.)
 */
import { afterEach, describe, expect, test } from "bun:test";
import { tagHijack } from "../../src/bench/hostile/tag-hijack.ts";
import { MemoryEngine } from "../../src/engine/memory-engine.ts";
import { VERSION } from "../../src/version.ts";
import { tarStream } from "../../src/util/tar.ts";
import { describeWith } from "../support/needs.ts";
import { imageTarget, type ImageTargetNode } from "./support/image-target.ts";

let targets: ImageTargetNode[] = [];
afterEach(async () => {
  await Promise.all(targets.map((t) => t.close()));
  targets = [];
});

async function victims(t: ImageTargetNode, tags: string[]): Promise<Record<string, string | undefined>> {
  return Object.fromEntries(await Promise.all(tags.map(async (tag) => [tag, await t.imageOf(tag)])));
}

describe("finding 1: a peer's image never takes a name on the target (memory engine)", () => {
  const TAGS = ["debian:12", `icon-runtime:${VERSION}`, "my-own-app:latest"];

  for (const entry of ["offer", "replicate"] as const) {
    test(`by ${entry}: the image is loaded by id only and every victim tag still names its own image`, async () => {
      const engine = new MemoryEngine();
      for (const tag of TAGS) await engine.addImage(tag, { layers: [`the operator's ${tag}`] });
      const t = await imageTarget({ engine });
      targets.push(t);
      const before = await victims(t, TAGS);
      const r = await tagHijack({ target: t.endpoint, victimTags: TAGS, entry, probe: t.imageOf });
      expect(r.detail).toHaveLength(1);
      expect(r.succeeded).toBe(0);
      expect(r.contained).toBe(1); // it was loaded (so the test saw the load happen) ...
      expect(await victims(t, TAGS)).toEqual(before); // ... and no name moved
    });
  }
});

describeWith(["docker"], "finding 1 on a real Docker engine", () => {
  const TAGS = ["icon-hostile-victim:1", "icon-hostile-victim-runtime:1"];

  test("an offered image is loaded by id only: docker load moves none of the operator's tags", async () => {
    const { createDockerEngine } = await import("../../src/engine/docker-engine.ts");
    const engine = await createDockerEngine("/var/run/docker.sock");
    for (const tag of TAGS) {
      const [repo, version] = tag.split(":") as [string, string];
      await engine.importImage(tarStream([{ path: "victim.txt", type: "file", mode: 0o644, data: `the operator's ${tag}` }]), { repo, tag: version, changes: [] });
    }
    const t = await imageTarget({ engine });
    targets.push(t);
    let attackerImage: string | undefined;
    try {
      const before = await victims(t, TAGS);
      const r = await tagHijack({ target: t.endpoint, victimTags: TAGS, entry: "offer", probe: async (ref) => {
        const id = await t.imageOf(ref);
        if (id && !TAGS.includes(ref)) attackerImage = id;
        return id;
      } });
      expect(r.succeeded).toBe(0);
      expect(r.contained).toBe(1);
      expect(await victims(t, TAGS)).toEqual(before);
    } finally {
      for (const ref of [...TAGS, ...(attackerImage ? [attackerImage] : [])]) await engine.removeImage(ref, { force: true }).catch(() => {});
    }
  });
});
