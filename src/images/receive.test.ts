/**
 * The receiving side against sources that declare too much, send past a quota, or stall: real peer
 * connections on loopback, memory engines on both sides.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loopbackNetworks } from "../../test/support/peers.ts";
import { MemoryEngine } from "../engine/memory-engine.ts";
import { silentLogger } from "../log.ts";
import type { RequestContext } from "../peer/connection.ts";
import { FakeClock } from "../util/clock.ts";
import { engineImageHost } from "./engine-host.ts";
import { LayerStore } from "./layer-store.ts";
import { ByteQuota } from "./quota.ts";
import { fetchImage, type ReceiveDeps } from "./receive.ts";
import { OP_LAYERS, type ImageDecl } from "./ship.ts";
import { LayerSource } from "./source.ts";

const { network, stopAll } = loopbackNetworks();
let dirs: string[] = [];
afterEach(async () => {
  await stopAll();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function store(): Promise<LayerStore> {
  const dir = await mkdtemp(join(tmpdir(), "icon-receive-"));
  dirs.push(dir);
  const s = new LayerStore(dir, 1 << 30, silentLogger);
  await s.open();
  return s;
}

/** A source node serving APP (through `wrap`, which may lie), and a connection to it from a target. */
async function setup(wrap: (serve: LayerSource["serve"]) => (body: unknown, ctx: RequestContext) => Promise<unknown> = (s) => s) {
  const engine = new MemoryEngine();
  const app = await engine.addImage("app:1", { layers: ["base", Buffer.from(crypto.getRandomValues(new Uint8Array(200_000))).toString("hex")] });
  const source = new LayerSource({ host: engineImageHost(engine), store: await store(), iconImages: async () => new Set([app.id]), quota: new ByteQuota(0, "served to"), log: silentLogger });
  const [src, dst] = [await network(), await network()];
  src.handle(OP_LAYERS, wrap(source.serve));
  const conn = await dst.connect({ nodeId: src.nodeId, address: "127.0.0.1", port: src.port });
  const target = new MemoryEngine();
  await target.addImage("base:1", { layers: ["base"] });
  const deps = (o: Partial<ReceiveDeps> = {}): Promise<ReceiveDeps> =>
    store().then((s) => ({ host: engineImageHost(target), store: s, quota: new ByteQuota(0, "accepted from"), limits: { maxImageBytes: 1 << 30 }, ...o }));
  return { app, conn, target, deps };
}

test("an honest source: only the missing layer travels, and the image loads", async () => {
  const { app, conn, target, deps } = await setup();
  const bytes = await fetchImage(conn, app, await deps());
  expect(bytes).toBeGreaterThan(100_000); // hex of random bytes: about half of its 400 KB
  expect((await target.inspectImage(app.id))?.diffIds).toEqual(app.diffIds);
});

test("a declaration over maxImageBytes is refused (TOO_LARGE) before a byte is taken, and the source is hung up on", async () => {
  const { app, conn, target, deps } = await setup();
  const err = await fetchImage(conn, app, await deps({ limits: { maxImageBytes: 300_000 } })).catch((e) => e);
  expect(err.code).toBe("TOO_LARGE");
  const tarOfOneFile = 512 + Math.ceil(400_000 / 512) * 512 + 1024; // header, padded data, end blocks
  expect(err.message).toContain(`brings ${tarOfOneFile} bytes of layers; this node accepts at most 300000`);
  expect(await target.inspectImage(app.id)).toBeUndefined();
  await Bun.sleep(20);
  expect(conn.open).toBe(false); // it was streaming what it declared: only hanging up stops that
});

test("bytes from a peer past its hourly quota are refused (QUOTA) at the declaration", async () => {
  const { app, conn, target, deps } = await setup();
  const d = await deps({ quota: new ByteQuota(50_000, "accepted from") });
  const err = await fetchImage(conn, app, d).catch((e) => e);
  expect(err.code).toBe("QUOTA");
  expect(d.quota.status().refused).toBe(1);
  expect(await target.inspectImage(app.id)).toBeUndefined();
});

test("a source that declares and then stalls fails at the transfer's deadline, whatever the idle timeout", async () => {
  let stall: () => void = () => {};
  const { app, conn, target, deps } = await setup((serve) => (body, ctx) =>
    serve(body, {
      ...ctx,
      // The declaration goes out; then a trickle of one chunk, and nothing more.
      sendData: async (chunk) => {
        await ctx.sendData(chunk.subarray(0, 1000));
        await new Promise<void>((r) => (stall = r));
      },
    }));
  const clock = new FakeClock();
  let declared: ImageDecl["layers"] | undefined;
  const fetching = fetchImage(conn, app, await deps({ clock }), (e) => e.type === "image.receiving" && (declared ??= []));
  for (let i = 0; i < 100 && !declared; i++) await Bun.sleep(10);
  expect(declared).toBeDefined();
  await clock.advance(29_000);
  expect(await Promise.race([fetching.then(() => "done", () => "failed"), Bun.sleep(50).then(() => "running")])).toBe("running");
  await clock.advance(30_000); // 30 s plus the declared bytes at 32 KiB/s, about 6 s here
  const err = await fetching.catch((e) => e);
  expect(err.code).toBe("TIMEOUT");
  expect(err.message).toContain("1000 of");
  expect(await target.inspectImage(app.id)).toBeUndefined();
  stall();
});
