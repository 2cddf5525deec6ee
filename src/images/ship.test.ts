/**
 * Image shipping between two nodes on a real Docker engine (one daemon plays both: the target's copy is
 * removed before each fetch). The peer protocol runs on loopback.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeWith } from "../../test/support/needs.ts";
import { loopbackNetworks } from "../../test/support/peers.ts";
import { docker } from "../../test/support/run.ts";
import { silentLogger } from "../log.ts";
import type { RequestContext } from "../peer/connection.ts";
import type { ContainerEngine } from "../engine/container-engine.ts";
import { tarBytes } from "../util/tar.ts";
import { peerTag, type ImageMeta } from "./archive.ts";
import { engineImageHost } from "./engine-host.ts";
import { LayerStore } from "./layer-store.ts";
import { ByteQuota } from "./quota.ts";
import { fetchImage, type ReceiveDeps } from "./receive.ts";
import { OP_LAYERS, type FetchProgress } from "./ship.ts";
import { LayerSource } from "./source.ts";

const BASE = "icon-test-ship-base:1";
const APP = "icon-test-ship-app:1";

describeWith(["docker"], "image shipping between two nodes", () => {
  let dir: string;
  let engine: ContainerEngine;
  let meta: ImageMeta;
  let source: LayerSource;
  let stores = 0;
  const { network, stopAll } = loopbackNetworks();

  /** Removes the application image, tags and all (the target then lacks its top layer; the base stays). */
  const dropApp = () => Bun.spawnSync(["docker", "rmi", "-f", meta.id], { stdout: "ignore", stderr: "ignore" });

  async function receiver(): Promise<ReceiveDeps> {
    const store = new LayerStore(join(dir, `target-${++stores}`), 1 << 30, silentLogger);
    await store.open();
    return { host: engineImageHost(engine), store, quota: new ByteQuota(0, "accepted from"), limits: { maxImageBytes: 1 << 30 } };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "icon-ship-"));
    // A base layer that does not compress below the inline budget, like a real runtime layer.
    docker(["import", "-", BASE], await tarBytes([{ path: "base.bin", type: "file", mode: 0o644, data: crypto.getRandomValues(new Uint8Array(1 << 20)) }]));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${BASE}\nCOPY app.txt /app.txt\n`);
    writeFileSync(join(dir, "app.txt"), "the application layer ".repeat(500));
    docker(["build", "-q", "-t", APP, dir]);
    engine = await (await import("../engine/docker-engine.ts")).createDockerEngine("/var/run/docker.sock");
    meta = (await engineImageHost(engine).inspectImage(APP))!;
    const store = new LayerStore(join(dir, "source"), 1 << 30, silentLogger);
    await store.open();
    source = new LayerSource({ host: engineImageHost(engine), store, iconImages: async () => new Set([meta.id]), quota: new ByteQuota(0, "served to"), log: silentLogger });
    // Saved into the store ahead of need, as a node does when a root ICON starts: served from there after.
    await source.prepare(APP);
  });
  afterAll(async () => {
    await stopAll();
    Bun.spawnSync(["docker", "rmi", "-f", APP, ...(meta ? [meta.id] : []), BASE], { stdout: "ignore", stderr: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  });

  async function pair(wrap?: (serve: LayerSource["serve"]) => (body: unknown, ctx: RequestContext) => Promise<unknown>) {
    const [src, dst] = [await network(), await network()];
    src.handle(OP_LAYERS, wrap ? wrap(source.serve) : source.serve);
    return dst.connect({ nodeId: src.nodeId, address: "127.0.0.1", port: src.port });
  }

  test("only the layer above the held chain travels, verified, and loads named only by its id", async () => {
    const conn = await pair();
    dropApp();
    const deps = await receiver();
    const events: FetchProgress[] = [];
    const bytes = await fetchImage(conn, meta, deps, (e) => events.push(e));
    expect(bytes).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === "image.receiving").map((e) => e.type === "image.receiving" && e.layer)).toContain(meta.diffIds[1]!);
    expect(events.some((e) => e.type === "image.receiving" && e.layer === meta.diffIds[0])).toBe(false); // the base stayed home
    // The image phase's split: last byte, then last layer verified, then the engine's own work after it.
    const done = events.find((e) => e.type === "image.loaded");
    if (done?.type !== "image.loaded") throw new Error("no image.loaded event");
    expect(done.asked).toBe(true);
    expect(done.verifiedMs).toBeGreaterThan(0); // a layer is verified only once its bytes came over the connection
    expect(done.receivedMs).toBeLessThanOrEqual(done.verifiedMs);
    expect(done.verifiedMs).toBeLessThanOrEqual(done.ms);
    expect(Math.abs(done.verifiedMs + done.afterVerifiedMs - done.ms)).toBeLessThanOrEqual(1);
    const loaded = await engine.inspectImage(meta.id);
    expect(loaded?.repoTags).toEqual([peerTag(meta.id)]); // not APP: the source's names mean nothing here
    expect(await fetchImage(conn, meta, deps)).toBe(0); // now held: nothing travels
    // The layer stays in the target's store: once the image is gone again, it loads with no byte on the wire.
    dropApp();
    let asked: boolean | undefined;
    expect(await fetchImage(conn, meta, deps, (e) => e.type === "image.loaded" && (asked = e.asked))).toBe(0);
    expect(asked).toBe(false);
    expect((await engine.inspectImage(meta.id))?.id).toBe(meta.id);
  });

  test("layers that came inline with the request load without any request to the source", async () => {
    const [src, dst] = [await network(), await network()]; // src answers nothing: a fetch would fail
    const conn = await dst.connect({ nodeId: src.nodeId, address: "127.0.0.1", port: src.port });
    const inline = await source.inline(meta.id, 192 * 1024);
    expect(inline?.image.layers.map((l) => l.diffId)).toEqual([meta.diffIds[1]!]); // the application layer only
    dropApp();
    let asked: boolean | undefined;
    expect(await fetchImage(conn, meta, await receiver(), (e) => e.type === "image.loaded" && (asked = e.asked), inline)).toBeGreaterThan(0);
    expect(asked).toBe(false);
    expect((await engine.inspectImage(meta.id))?.id).toBe(meta.id);
  });

  test("inline data follows the image id: a tag rebuilt after it was prepared does not send the old image", async () => {
    const tag = "icon-test-ship-rebuilt:1";
    const build = (text: string) => {
      writeFileSync(join(dir, "app.txt"), text);
      docker(["build", "-q", "-t", tag, dir]);
      return docker(["image", "inspect", "-f", "{{.Id}}", tag]).toString().trim();
    };
    const first = build("first build ".repeat(100));
    try {
      await source.prepare(tag);
      const second = build("second build ".repeat(100));
      expect(second).not.toBe(first);
      const inline = await source.inline(second, 192 * 1024);
      const config = inline!.bytes.subarray(0, inline!.image.configBytes);
      expect("sha256:" + new Bun.CryptoHasher("sha256").update(config).digest("hex")).toBe(second);
    } finally {
      Bun.spawnSync(["docker", "rmi", "-f", tag, first], { stdout: "ignore", stderr: "ignore" });
    }
  });

  test("a corrupted layer aborts the load: nothing is loaded, nothing is kept", async () => {
    const conn = await pair((serve) => (body, ctx) => serve(body, { ...ctx, sendData: (chunk) => ctx.sendData(chunk.map((b, i) => (i === 40 ? b ^ 0xff : b))) }));
    dropApp();
    const deps = await receiver();
    await expect(fetchImage(conn, meta, deps)).rejects.toThrow(/corrupt|not valid zstd/);
    expect(await engine.inspectImage(meta.id)).toBeUndefined();
    expect(deps.store.status().layers).toBe(0);
  });

  test("a truncated transfer is rejected and nothing is loaded", async () => {
    const conn = await pair((serve) => (body, ctx) => serve(body, { ...ctx, sendData: (chunk) => ctx.sendData(chunk.subarray(0, chunk.length - 10)) }));
    dropApp();
    await expect(fetchImage(conn, meta, await receiver())).rejects.toThrow(/truncated/);
    expect(await engine.inspectImage(meta.id)).toBeUndefined();
  });
});
