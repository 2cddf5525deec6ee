import { afterEach, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../log.ts";
import { sha256 } from "./archive.ts";
import { LayerStore } from "./layer-store.ts";

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function store(maxBytes: number, dir?: string): Promise<LayerStore> {
  dir ??= await mkdtemp(join(tmpdir(), "icon-layers-"));
  dirs.push(dir);
  const s = new LayerStore(dir, maxBytes, silentLogger);
  await s.open();
  return s;
}

/** Stores `bytes` under a digest made from `name` (the store trusts its caller's verification). */
async function put(s: LayerStore, name: string, bytes: number): Promise<string> {
  const w = s.writer();
  w.append(new Uint8Array(bytes).fill(name.charCodeAt(0)));
  const diffId = sha256(new TextEncoder().encode(name));
  await w.commit(diffId, bytes * 10);
  return diffId;
}

test("a writer's bytes can be read while they are written, and a committed layer is found by its diffId", async () => {
  const s = await store(1 << 20);
  const w = s.writer();
  const read = (async () => {
    const parts: Uint8Array[] = [];
    for await (const c of w.chunks()) parts.push(c);
    return Buffer.concat(parts).toString();
  })();
  w.append(new TextEncoder().encode("hello "));
  await Bun.sleep(5);
  w.append(new TextEncoder().encode("world"));
  w.end();
  expect(await read).toBe("hello world");
  const diffId = sha256(new TextEncoder().encode("x"));
  const l = await w.commit(diffId, 1234);
  expect(l).toMatchObject({ diffId, bytes: 11, rawBytes: 1234 });
  expect(s.layer(diffId)?.path).toEndWith(`${diffId.slice(7)}.1234.zst`);
});

test("a failed writer fails its reader; a discarded one leaves nothing", async () => {
  const s = await store(1 << 20);
  const w = s.writer();
  const read = (async () => {
    for await (const _ of w.chunks());
  })();
  w.append(new Uint8Array(10));
  w.fail(new Error("the source went away"));
  await expect(read).rejects.toThrow("the source went away");
  await w.discard();
  expect(await readdir(join(s.dir, "tmp"))).toEqual([]);
});

test("least recently used layers go first when the store is over its size, never pinned ones; a restart keeps the order", async () => {
  const s = await store(3000);
  const a = await put(s, "a", 1000);
  const b = await put(s, "b", 1000);
  const c = await put(s, "c", 1000);
  s.layer(a); // a is now the most recently used
  const unpin = s.pin([b]);
  await Bun.sleep(20); // file times order the entries at restart
  await put(s, "d", 1000); // over by 1000: c goes (b is pinned)
  expect([a, b, c].map((x) => !!s.layer(x))).toEqual([true, true, false]);
  unpin();
  expect(s.status()).toMatchObject({ layers: 3, bytes: 3000, evicted: 1 });
  const again = await store(2000, s.dir); // smaller now: the oldest use goes
  expect(again.status()).toMatchObject({ layers: 2, bytes: 2000 });
});

test("a config is kept only when it is the image it claims to be", async () => {
  const s = await store(1 << 20);
  const config = new TextEncoder().encode('{"rootfs":{"diff_ids":[]}}');
  await s.putConfig(sha256(config), config);
  expect(await s.config(sha256(config))).toEqual(config);
  await expect(s.putConfig(sha256(new Uint8Array(1)), config)).rejects.toThrow(/does not match image/);
});
