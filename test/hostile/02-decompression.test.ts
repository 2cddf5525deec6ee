/**
 * Finding 2: remote memory exhaustion through image layers. (a) A decompression bomb: 16 KB of zstd RLE
 * blocks that inflate to 512 MiB, declared as a 1 MiB layer, sent in the `image.layers` answer or
 * inline with a replicate request; a node that inflates whole layers allocates all of it. (b) A
 * source that declares a small layer and then streams without end; a node that buffers until the
 * source is done (and restarts its timeout at every chunk) holds everything.
 * The target must refuse with a clear code, its RSS bounded, and hang up on the endless source.
 * (src/bench/hostile/layer-bomb.ts and endless-layer.ts are the attacks.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { endlessLayer } from "../../src/bench/hostile/endless-layer.ts";
import { layerBomb } from "../../src/bench/hostile/layer-bomb.ts";
import { imageTarget, type ImageTargetNode } from "./support/image-target.ts";

const rss = () => process.memoryUsage().rss;

describe("finding 2: layers cannot exhaust a node's memory", () => {
  let t: ImageTargetNode;
  beforeAll(async () => {
    t = await imageTarget();
  });
  afterAll(() => t.close());

  for (const via of ["layers", "inline"] as const) {
    test(`a 16 KB bomb that inflates to 512 MiB (${via}) is refused at its declared 1 MiB; RSS stays bounded`, async () => {
      Bun.gc(true);
      const r = await layerBomb({ target: t.endpoint, rss, via });
      expect(r.detail[0]).toContain("16390 bytes sent");
      expect(r.detail[0]).toMatch(/answer INVALID_INPUT: .*inflates beyond the 1048576 bytes declared/);
      expect(r.refused).toBe(1);
      expect(t.shipping.status().accepted.failed.INVALID_INPUT).toBeGreaterThanOrEqual(1);
    });
  }

  test("a source that streams past its declaration is refused and hung up on; RSS stays bounded", async () => {
    Bun.gc(true);
    const r = await endlessLayer({ target: t.endpoint, rss, maxBytes: 256 << 20 });
    expect(r.detail[0]).toContain("before the target hung up");
    expect(r.detail[0]).toMatch(/answer INVALID_INPUT: /);
    expect(r.refused).toBe(1);
  });
});
