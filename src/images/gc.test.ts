import { expect, test } from "bun:test";
import { MemoryEngine } from "../engine/memory-engine.ts";
import { silentLogger } from "../log.ts";
import { FakeClock } from "../util/clock.ts";
import { peerTag } from "./archive.ts";
import { engineImageHost } from "./engine-host.ts";
import { ImageGc } from "./gc.ts";

test("a peer's image goes once no ICON used it for unusedSec; one in use, or the operator's, stays", async () => {
  const engine = new MemoryEngine();
  const clock = new FakeClock();
  const operator = await engine.addImage("debian:12", { layers: ["the operator's"] });
  // Images from peers carry only icon's own name.
  const prefetched = await engine.addImage("x:1", { layers: ["prefetched, never used"] });
  const replica = await engine.addImage("y:1", { layers: ["a replica's"] });
  for (const img of [prefetched, replica]) {
    await engine.tagImage(img.id, "icon.local/peer", img.id.slice(7));
    await engine.removeImage(img.repoTags[0]!);
  }
  const inUse = new Set([replica.id]);
  const gc = new ImageGc({ host: engineImageHost(engine), inUse: async () => inUse, unusedSec: 600, clock, log: silentLogger });
  gc.start();
  const held = async () => (await engine.listImageIds()).sort();

  await clock.advance(599_000);
  expect(await held()).toEqual([operator.id, prefetched.id, replica.id].sort()); // not unused long enough yet
  await clock.advance(300_000);
  expect(await held()).toEqual([operator.id, replica.id].sort());
  expect(gc.status().removed).toBe(1);

  // The replica goes: its image is unused from the next sweep on, and goes unusedSec after that.
  inUse.clear();
  await clock.advance(150_000);
  expect(await held()).toContain(replica.id);
  await clock.advance(600_000);
  expect(await held()).toEqual([operator.id]);
  expect(await engine.inspectImage(peerTag(replica.id))).toBeUndefined();
  gc.stop();
});

test("an image a container still uses is not removed (the engine refuses), and is tried again later", async () => {
  const engine = new MemoryEngine();
  const clock = new FakeClock();
  const img = await engine.addImage("z:1", { layers: ["used by a stray container"] });
  await engine.tagImage(img.id, "icon.local/peer", img.id.slice(7));
  await engine.removeImage("z:1");
  await engine.createContainer({ name: "stray", image: img.id, env: {}, labels: {}, user: "", binds: [], tmpfs: {}, readOnlyRoot: true, capDrop: [], securityOpt: [], memoryBytes: 1 << 26, nanoCpus: 1e9, pidsLimit: 16, init: true, network: { mode: "none" }, stopTimeoutSec: 1 });
  const gc = new ImageGc({ host: engineImageHost(engine), inUse: async () => new Set(), unusedSec: 60, clock, log: silentLogger });
  expect(await gc.sweep()).toEqual([]);
  await clock.advance(61_000);
  expect(await gc.sweep()).toEqual([]);
  expect((await engine.inspectImage(img.id))?.id).toBe(img.id);
  expect(gc.status()).toEqual({ removed: 0, unused: 1 });
});
