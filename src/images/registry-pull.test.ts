import { expect, test } from "bun:test";
import { MemoryEngine } from "../engine/memory-engine.ts";
import { isIconError } from "../errors.ts";
import { pullFromRegistry } from "./registry-pull.ts";

test("pulls REGISTRY/NAME by the source's name, tags, versions and paths included, and keeps it only as icon.local/peer:<id>", async () => {
  const registry = new Map<string, Uint8Array>();
  const origin = new MemoryEngine("origin", undefined, registry);
  const edge = new MemoryEngine("edge", undefined, registry);
  for (const ref of ["icon-app:0.1.0-3d4fe65", "team/app_x:v1.2"]) {
    const img = await origin.addImage(`10.0.0.1:5000/${ref}`, { layers: ["base", ref] });
    await origin.pushImage(`10.0.0.1:5000/${ref}`);
    expect(await pullFromRegistry(edge, "10.0.0.1:5000", { ref, id: img.id })).toBeGreaterThan(0);
    expect((await edge.inspectImage(img.id))?.repoTags).toEqual([`icon.local/peer:${img.id.slice(7)}`]);
  }
});

test("a name that would reach another registry, or a digest, is refused before any pull", async () => {
  const edge = new MemoryEngine("edge", undefined, new Map());
  const id = `sha256:${"1".repeat(64)}`;
  for (const ref of ["evil.example/app:1", "localhost/app:1", "host:5000/app:1", id, "App:1"]) {
    const err = await pullFromRegistry(edge, "10.0.0.1:5000", { ref, id }).catch((e) => e);
    expect([ref, isIconError(err, "INVALID_INPUT")]).toEqual([ref, true]);
  }
});
