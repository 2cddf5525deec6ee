/**
 * Seeds one Docker engine with an image from another (by default from the main engine into a per-host
 * engine of `up --engines`): `docker save | docker load` through the Engine API, streamed, so a large
 * image never sits in memory. Skipped when the target already holds the same image id; checked after
 * loading (the id is the digest of the image config, identical on both engines when the copy is whole).
 */
import { Readable } from "node:stream";
import type { ContainerEngine } from "../../engine/container-engine.ts";
import { IconError } from "../../errors.ts";
import { MAIN_DOCKER_SOCKET, engineAt } from "../docker.ts";

export interface CopyImageOptions {
  /** Socket of the engine that holds the image (default the main engine, /var/run/docker.sock). */
  from?: string;
  /** Socket of the engine to load it into, e.g. a host's `dockerSocket` from `icon testbed status --json`. */
  to: string;
}

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

const elapsed = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

export async function copyImage(ref: string, o: CopyImageOptions): Promise<CopyImageResult> {
  const t0 = performance.now();
  const fromSocket = o.from ?? MAIN_DOCKER_SOCKET;
  const [from, to] = await Promise.all([engineAt(fromSocket), engineAt(o.to)]);
  const idOn = async (engine: ContainerEngine) => (await engine.inspectImage(ref))?.id;
  const id = await idOn(from);
  if (!id) throw new IconError("NOT_FOUND", `image ${ref} is not in the engine at ${fromSocket}`, `Build or pull it there first (docker -H unix://${fromSocket} images).`);
  if ((await idOn(to)) === id) return { ref, id, copied: false, bytes: 0, ms: elapsed(t0) };
  let bytes = 0;
  const saved = await from.saveImages([ref]);
  // Chunk by chunk from one engine's answer into the other's request: never the whole image in memory.
  const counted = Readable.from((async function* () {
    for await (const chunk of saved as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      yield chunk;
    }
  })());
  await to.loadImage(counted);
  const loaded = await idOn(to);
  if (loaded !== id)
    throw new IconError("FAILED", `copying ${ref} to ${o.to}: the target holds ${loaded ?? "nothing"} instead of ${id}`,
      "Try again; if it persists, check both engines' logs.");
  return { ref, id, copied: true, bytes, ms: elapsed(t0) };
}
