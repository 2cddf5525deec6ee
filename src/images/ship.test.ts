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
import { engineImageHost } from "./engine-host.ts";
import { LayerSource, OP_LAYERS, fetchImage } from "./ship.ts";
import type { ImageMeta } from "./archive.ts";

const BASE = "icon-test-ship-base:1";
const APP = "icon-test-ship-app:1";


/** Removes the application image if the daemon holds it (by id: it may have lost its tag). */
function dropApp(): void {
  Bun.spawnSync(["docker", "rmi", "-f", APP], { stdout: "ignore", stderr: "ignore" });
}

describeWith(["docker"], "image shipping between two nodes", () => {
  let dir: string;
  let engine: ContainerEngine;
  let meta: ImageMeta;
  let source: LayerSource;
  const { network, stopAll } = loopbackNetworks();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "icon-ship-"));
    // A base layer that does not compress below the inline budget, like a real runtime layer.
    docker(["import", "-", BASE], await tarBytes([{ path: "base.bin", type: "file", mode: 0o644, data: crypto.getRandomValues(new Uint8Array(1 << 20)) }]));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${BASE}\nCOPY app.txt /app.txt\n`);
    writeFileSync(join(dir, "app.txt"), "the application layer ".repeat(500));
    docker(["build", "-q", "-t", APP, dir]);
    engine = await (await import("../engine/docker-engine.ts")).createDockerEngine("/var/run/docker.sock");
    meta = (await engineImageHost(engine).inspectImage(APP))!;
    // Split ahead of need, as a node does when a root ICON starts: it then serves from this, not from the daemon.
    source = new LayerSource(engineImageHost(engine), silentLogger);
    await source.prepare(APP);
  });
  afterAll(async () => {
    await stopAll();
    Bun.spawnSync(["docker", "rmi", "-f", APP, ...(meta ? [meta.id] : []), BASE], { stdout: "ignore", stderr: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  });

  /** Source and target on one Docker engine: the source splits the image first, then the target's copy is removed. */
  async function pair(wrap?: (serve: LayerSource["serve"]) => (body: unknown, ctx: RequestContext) => Promise<unknown>) {
    const [src, dst] = [await network(), await network()];
    const host = engineImageHost(engine);
    src.handle(OP_LAYERS, wrap ? wrap(source.serve) : source.serve);
    const conn = await dst.connect({ nodeId: src.nodeId, address: "127.0.0.1", port: src.port });
    return { conn, host };
  }

  test("only the layers above the held chain travel, verified, and the image loads", async () => {
    const { conn, host } = await pair();
    dropApp(); // the target (same daemon) now lacks the application layer; the base stays
    const events: string[] = [];
    const bytes = await fetchImage(conn, meta, host, (e) => events.push(e.type));
    expect(bytes).toBeGreaterThan(0);
    expect(events).toContain("image.loaded");
    const loaded = await host.inspectImage(APP);
    expect(loaded?.id).toBe(meta.id);
    expect(await fetchImage(conn, meta, host)).toBe(0); // now held: nothing travels
  });

  test("layers that came inline with the request load without any request to the source", async () => {
    const [src, dst] = [await network(), await network()]; // src answers nothing: a fetch would fail
    const conn = await dst.connect({ nodeId: src.nodeId, address: "127.0.0.1", port: src.port });
    const inline = await source.inline(meta.id, 192 * 1024);
    expect(inline?.image.layers.map((l) => l.diffId)).toEqual([meta.diffIds[1]!]); // the application layer only
    dropApp();
    const host = engineImageHost(engine);
    let asked: boolean | undefined;
    expect(await fetchImage(conn, meta, host, (e) => e.type === "image.loaded" && (asked = e.asked), inline)).toBeGreaterThan(0);
    expect(asked).toBe(false);
    expect((await host.inspectImage(meta.id))?.id).toBe(meta.id);
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

  test("a corrupted layer is rejected and nothing is loaded", async () => {
    const { conn, host } = await pair((serve) => (body, ctx) =>
      serve(body, { ...ctx, sendData: (chunk) => ctx.sendData(chunk.map((b, i) => (i === 40 ? b ^ 0xff : b))) }));
    dropApp();
    await expect(fetchImage(conn, meta, host)).rejects.toThrow(/corrupt|not valid zstd/);
    expect(await host.inspectImage(meta.id)).toBeUndefined();
  });

  test("a truncated transfer is rejected and nothing is loaded", async () => {
    const { conn, host } = await pair((serve) => (body, ctx) =>
      serve(body, { ...ctx, sendData: (chunk) => ctx.sendData(chunk.subarray(0, chunk.length - 10)) }));
    dropApp();
    await expect(fetchImage(conn, meta, host)).rejects.toThrow(/truncated/);
    expect(await host.inspectImage(meta.id)).toBeUndefined();
  });
});
