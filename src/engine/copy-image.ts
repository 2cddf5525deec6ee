/**
 * Copies an image from one Docker engine into another: `docker save | docker load` through the Engine
 * API, streamed, so a large image never sits in memory. `icon run IMAGE` uses it to bring an image from
 * the operator's engine into the node's own; the testbed to seed its per-host engines. Skipped when the
 * target already holds the same image id; checked after loading (the id is the digest of the image
 * config, identical on both engines when the copy is whole).
 */
import { Readable } from "node:stream";
import { IconError } from "../errors.ts";
import type { ContainerEngine } from "./container-engine.ts";

export interface CopyImageResult {
  ref: string;
  /** Image id on both engines afterwards. */
  id: string;
  /** False when the target already held this image id (nothing was sent). */
  copied: boolean;
  /** Size of the `docker save` archive that was streamed (0 when skipped). */
  bytes: number;
  ms: number;
}

/** An engine and how messages name it ("the engine at /var/run/docker.sock"). */
export interface NamedEngine {
  engine: ContainerEngine;
  name: string;
}

const elapsed = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

export async function copyImage(ref: string, from: NamedEngine, to: NamedEngine): Promise<CopyImageResult> {
  const t0 = performance.now();
  const idOn = async (engine: ContainerEngine) => (await engine.inspectImage(ref))?.id;
  const id = await idOn(from.engine);
  if (!id) throw new IconError("NOT_FOUND", `image ${ref} is not in ${from.name}`, "Build it there first (docker build -t NAME .), or name an image it holds.");
  if ((await idOn(to.engine)) === id) return { ref, id, copied: false, bytes: 0, ms: elapsed(t0) };
  let bytes = 0;
  const saved = await from.engine.saveImages([ref]);
  // Chunk by chunk from one engine's answer into the other's request: never the whole image in memory.
  const counted = Readable.from((async function* () {
    for await (const chunk of saved as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      yield chunk;
    }
  })());
  await to.engine.loadImage(counted);
  const loaded = await idOn(to.engine);
  if (loaded !== id)
    throw new IconError("FAILED", `copying ${ref} into ${to.name}: it holds ${loaded ?? "nothing"} instead of ${id}`,
      "Try again; if it persists, check both engines' logs.");
  return { ref, id, copied: true, bytes, ms: elapsed(t0) };
}
