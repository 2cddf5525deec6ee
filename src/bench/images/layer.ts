/**
 * The large layer image shipping is measured with: one layer of real npm packages (by default those
 * of this repository: typescript, hono, @noble, protobufjs, about 30 MB), imported as an image.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import type { ContainerEngine } from "../../engine/container-engine.ts";
import { IconError } from "../../errors.ts";
import { tarBytes, tarStream, type TarItem } from "../../util/tar.ts";

export const BENCH_IMAGE = "icon-bench-images:1";
const REPO_MODULES = join(import.meta.dir, "../../../node_modules");
const PACKAGES = ["typescript", "hono", "@noble", "protobufjs"];

/** The folders the default layer is made of; undefined when this is not a source checkout. */
export function defaultLayerDirs(): string[] | undefined {
  const dirs = PACKAGES.map((p) => join(REPO_MODULES, p));
  return dirs.every((d) => existsSync(d)) ? dirs : undefined;
}

/** A root filesystem holding `dirs` under /app (files and folders; links are left out). */
async function items(dirs: string[]): Promise<TarItem[]> {
  const out: TarItem[] = [{ path: "app", type: "dir", mode: 0o755 }];
  for (const dir of dirs) {
    const base = `app/${dir.split("/").slice(-1)[0]}`;
    out.push({ path: base, type: "dir", mode: 0o755 });
    for (const e of (await readdir(dir, { recursive: true, withFileTypes: true })).sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
      const path = `${base}/${relative(dir, join(e.parentPath, e.name))}`;
      if (e.isDirectory()) out.push({ path, type: "dir", mode: 0o755 });
      else if (e.isFile()) out.push({ path, type: "file", mode: 0o644, source: join(e.parentPath, e.name) });
    }
  }
  return out;
}

/** The layer's bytes (what `docker save` writes for it: the same tar). */
export async function layerBytes(dirs: string[]): Promise<Uint8Array> {
  return tarBytes(await items(dirs));
}

/** Imports the layer as BENCH_IMAGE on `engine` (once); returns its id and diffIds. */
export async function benchImage(engine: ContainerEngine, dirs: string[]): Promise<{ id: string; diffIds: string[] }> {
  if (!dirs.length) throw new IconError("USAGE", "no folders to make the layer of", "Pass --layer-dir DIR.");
  const [repo, tag] = BENCH_IMAGE.split(":") as [string, string];
  const have = await engine.inspectImage(BENCH_IMAGE);
  if (!have) await engine.importImage(tarStream(await items(dirs)), { repo, tag, changes: [] });
  const info = (await engine.inspectImage(BENCH_IMAGE))!;
  // Earlier imports of the same layer (untagged since) would hold it on a target that shares this engine.
  for (const id of await engine.listImageIds()) {
    if (id !== info.id && (await engine.inspectImage(id))?.diffIds[0] === info.diffIds[0]) await engine.removeImage(id, { force: true });
  }
  return { id: info.id, diffIds: info.diffIds };
}
