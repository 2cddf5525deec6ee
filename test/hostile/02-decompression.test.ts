/**
 * Finding 2: remote memory exhaustion through image layers. (a) A decompression bomb: 16 KB of zstd RLE
 * blocks that inflate to 512 MiB, declared as a 1 MiB layer, sent in the `image.layers` answer or
 * inline with a replicate request; a node that inflates whole layers allocates all of it. (b) A
 * source that declares a small layer and then streams without end; a node that buffers until the
 * source is done (and restarts its timeout at every chunk) holds everything.
 * The target must refuse with a clear code, its RSS bounded, and hang up on the endless source.
 * (src/bench/hostile/layer-bomb.ts and endless-layer.ts are the attacks.) The target runs as a process
 * of its own: its RSS is then what the attack made it hold, not the test runner's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { endlessLayer } from "../../src/bench/hostile/endless-layer.ts";
import { layerBomb } from "../../src/bench/hostile/layer-bomb.ts";
import { procMemory } from "../../src/bench/hostile/run-context.ts";
import type { PeerEndpoint } from "../../src/peer/network.ts";
import { lineProcess, type LineProcess } from "./support/lines.ts";

type Answer<T> = { ok: true; body: T };
/** The target's RSS growth an attack's report names, in MiB: a failure then says by how much. */
const grewMiB = (detail: string) => Number(/target RSS \+(-?\d+) MiB/.exec(detail)?.[1] ?? NaN);

describe("finding 2: layers cannot exhaust a node's memory", () => {
  let target: LineProcess;
  let endpoint: PeerEndpoint;
  let rss: () => number;
  const gc = () => target.ask({ gc: true });
  beforeAll(async () => {
    target = lineProcess([process.execPath, join(import.meta.dir, "support", "image-target-node.ts")]);
    const { body } = await target.read<Answer<{ endpoint: PeerEndpoint; pid: number }>>();
    endpoint = body.endpoint;
    rss = () => procMemory(body.pid, "VmRSS");
  });
  afterAll(() => target.stop());

  for (const via of ["layers", "inline"] as const) {
    test(`a 16 KB bomb that inflates to 512 MiB (${via}) is refused at its declared 1 MiB; RSS stays bounded`, async () => {
      await gc();
      const r = await layerBomb({ target: endpoint, rss, via });
      expect(r.detail[0]).toContain("16390 bytes sent");
      expect(r.detail[0]).toMatch(/answer INVALID_INPUT: .*inflates beyond the 1048576 bytes declared/);
      expect(grewMiB(r.detail[0]!)).toBeLessThanOrEqual(128);
      expect(r.refused).toBe(1);
      const { body } = await target.ask<Answer<{ accepted: { failed: Record<string, number> } }>>({ status: true });
      expect(body.accepted.failed.INVALID_INPUT).toBeGreaterThanOrEqual(1);
    });
  }

  test("a source that streams past its declaration is refused and hung up on; RSS stays bounded", async () => {
    await gc();
    const r = await endlessLayer({ target: endpoint, rss, maxBytes: 256 << 20 });
    expect(r.detail[0]).toContain("before the target hung up");
    expect(r.detail[0]).toMatch(/answer INVALID_INPUT: /);
    expect(grewMiB(r.detail[0]!)).toBeLessThanOrEqual(64);
    expect(r.refused).toBe(1);
  });
});
