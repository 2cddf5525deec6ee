/**
 * Collects images that came from peers (the only ones named under icon.local/peer) once no ICON on this
 * node has used them for `unusedSec`: a replica removed after its idle time, or a prefetch that was
 * never needed. Images the operator put on the engine (root ICONs' images, the runtime base) carry no
 * such name and are never touched.
 */
import type { Logger } from "../log.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import { PEER_REPO, peerTag } from "./archive.ts";
import type { ImageHost } from "./host.ts";

export interface ImageGcDeps {
  host: ImageHost;
  /** Ids of the images this node's ICONs use, and of images being fetched now. */
  inUse: () => Promise<Set<string>>;
  unusedSec: number;
  clock: Clock;
  log: Logger;
}

export class ImageGc {
  private readonly unusedSince = new Map<string, number>();
  private timer?: TimerHandle;
  private removed = 0;
  private stopped = false;

  constructor(private readonly d: ImageGcDeps) {}

  /** Sweeps every quarter of unusedSec (at most every 5 min), so an image goes within 1.25 x unusedSec. */
  start(): void {
    const every = Math.min(this.d.unusedSec / 4, 300) * 1000;
    const tick = () => {
      if (this.stopped) return;
      this.sweep()
        .catch((e) => this.d.log.warn("image collection failed", { error: e as Error }))
        .finally(() => !this.stopped && (this.timer = this.d.clock.setTimeout(tick, every)));
    };
    this.timer = this.d.clock.setTimeout(tick, every);
  }

  stop(): void {
    this.stopped = true;
    this.d.clock.clearTimeout(this.timer);
  }

  /** One pass: notes which peer images are unused since when, and removes those unused long enough. */
  async sweep(): Promise<string[]> {
    const now = this.d.clock.now();
    const used = await this.d.inUse();
    const seen = new Set<string>();
    const gone: string[] = [];
    for (const id of await this.d.host.listImageIds()) {
      const meta = await this.d.host.inspectImage(id);
      if (!meta?.repoTags.some((t) => t.startsWith(`${PEER_REPO}:`))) continue;
      seen.add(id);
      if (used.has(id)) {
        this.unusedSince.delete(id);
        continue;
      }
      const since = this.unusedSince.get(id) ?? now;
      this.unusedSince.set(id, since);
      if (now - since < this.d.unusedSec * 1000) continue;
      try {
        // By our tag: an image the operator also tagged keeps that tag and stays; one a container uses is refused.
        await this.d.host.removeImage(peerTag(id));
        this.unusedSince.delete(id);
        this.removed++;
        gone.push(id);
        this.d.log.info("removed an image no ICON used", { image: id.slice(7, 19), unusedSec: Math.round((now - since) / 1000) });
      } catch (e) {
        this.d.log.debug("could not remove an unused image", { image: id.slice(7, 19), error: e as Error });
      }
    }
    for (const id of this.unusedSince.keys()) if (!seen.has(id)) this.unusedSince.delete(id);
    return gone;
  }

  status() {
    return { removed: this.removed, unused: this.unusedSince.size };
  }
}
