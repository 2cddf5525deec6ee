/**
 * Seeds one Docker engine with an image from another (by default from the main engine into a per-host
 * engine of `up --engines`): `docker save | docker load` through the Engine API, streamed, so a large
 * image never sits in memory. Skipped when the target already holds the same image id; checked after
 * loading (the id is the digest of the image config, identical on both engines when the copy is whole).
 */
import { IconError } from "../../errors.ts";
import { EngineApi, MAIN_DOCKER_SOCKET } from "./api.ts";

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
  const from = new EngineApi(o.from ?? MAIN_DOCKER_SOCKET), to = new EngineApi(o.to);
  const id = await from.imageId(ref);
  if (!id) throw new IconError("NOT_FOUND", `image ${ref} is not in the engine at ${from.socket}`, `Build or pull it there first (docker -H unix://${from.socket} images).`);
  if ((await to.imageId(ref)) === id) return { ref, id, copied: false, bytes: 0, ms: elapsed(t0) };
  let bytes = 0;
  const counted = (await from.saveImage(ref)).pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      bytes += chunk.byteLength;
      c.enqueue(chunk);
    },
  }));
  await to.loadImage(counted);
  const loaded = await to.imageId(ref);
  if (loaded !== id)
    throw new IconError("FAILED", `copying ${ref} to ${to.socket}: the target holds ${loaded ?? "nothing"} instead of ${id}`,
      "Try again; if it persists, check both engines' logs.");
  return { ref, id, copied: true, bytes, ms: elapsed(t0) };
}
