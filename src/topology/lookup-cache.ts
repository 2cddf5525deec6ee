/**
 * Router lookups cached for a short time, shared while in flight, and refreshed in the background when
 * used, so that a warm `closest` answers without a network round trip. Expired announcements are dropped
 * when answering (estimate.ts), whatever this cache holds.
 *
 * A cached answer must not hide a node that announced after it was looked up (a new edge was offered
 * only after 30 s, when the refresh at half of a 60 s life came). So:
 * - what this node's own store answers (it holds announcements for the router: Directory.localLookup) is
 *   never cached: it costs no round trip and is always current;
 * - a remote answer is refreshed behind the reply once it is REFRESH_AFTER_MS old when used, an empty one
 *   (nobody announced that router: exactly what a new edge changes) once it is REFRESH_EMPTY_AFTER_MS old.
 *   Refreshes happen only when `closest` asks, so routers nobody asks about cost nothing.
 */
import type { DhtEvent } from "../dht/events.ts";
import type { Directory, RouterAnnouncement } from "./directory.ts";
import { lookupFigures, type LookupSpan } from "./timeline.ts";

export const MAX_CACHED_ROUTERS = 4096;
export const REFRESH_AFTER_MS = 5_000;
export const REFRESH_EMPTY_AFTER_MS = 1_000;

interface Entry {
  value?: RouterAnnouncement[];
  at: number;
  pending?: Promise<RouterAnnouncement[]>;
  /** The last DHT lookup's hops and messages (the closest timeline shows them). */
  figures?: LookupSpan["dht"];
}

export class LookupCache {
  private readonly entries = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly directory: Directory,
    private readonly opts: { ttlMs: number; now?: () => number; onError?: (routerId: string, e: unknown) => void },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Whether a fresh answer is held, or the local store answers (a lookup now would not touch the network). */
  isFresh(routerId: string): boolean {
    return this.source(routerId) !== "dht";
  }

  /** Where get() would answer from now: the local store, a fresh cached answer, or the DHT (or its lookup in flight). */
  source(routerId: string): LookupSpan["source"] {
    if (this.directory.localLookup?.(routerId)) return "local";
    const e = this.entries.get(routerId);
    return e?.value !== undefined && this.now() - e.at < this.opts.ttlMs ? "cache" : "dht";
  }

  /** The hops and messages of the router's last DHT lookup. */
  figures(routerId: string): LookupSpan["dht"] {
    return this.entries.get(routerId)?.figures;
  }

  /**
   * The announcements under a router: cached, in flight, or looked up now (always, with `force`).
   * A failed lookup is [].
   */
  get(routerId: string, force = false): Promise<RouterAnnouncement[]> {
    const local = this.directory.localLookup?.(routerId);
    if (local) {
      this.hits++;
      return Promise.resolve(local);
    }
    const e = this.entries.get(routerId);
    if (force) return this.start(routerId, e ?? this.insert(routerId));
    const age = e ? this.now() - e.at : Infinity;
    if (e?.value !== undefined && age < this.opts.ttlMs) {
      this.hits++;
      const stale = age >= Math.min(e.value.length ? REFRESH_AFTER_MS : REFRESH_EMPTY_AFTER_MS, this.opts.ttlMs / 2);
      if (stale && !e.pending) this.start(routerId, e); // refresh behind the answer
      return Promise.resolve(e.value);
    }
    this.misses++;
    if (e?.pending) return e.pending;
    return this.start(routerId, e ?? this.insert(routerId));
  }

  /** What the last lookup of a router found, however old, without looking it up (the dashboard's map). */
  peek(routerId: string): RouterAnnouncement[] | undefined {
    return this.directory.localLookup?.(routerId) ?? this.entries.get(routerId)?.value;
  }

  private insert(routerId: string): Entry {
    const e: Entry = { at: 0 };
    this.entries.set(routerId, e);
    while (this.entries.size > MAX_CACHED_ROUTERS) this.entries.delete(this.entries.keys().next().value!);
    return e;
  }

  private start(routerId: string, e: Entry): Promise<RouterAnnouncement[]> {
    const onEvent = (ev: DhtEvent) => {
      const f = lookupFigures(ev);
      if (f) e.figures = f;
    };
    const pending = this.directory.lookup(routerId, { onEvent }).then(
      (value) => {
        Object.assign(e, { value, at: this.now() });
        delete e.pending;
        return value;
      },
      (err) => {
        delete e.pending;
        this.opts.onError?.(routerId, err);
        return e.value ?? []; // not cached as a fact: the next request tries again
      },
    );
    e.pending = pending;
    return pending;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets every answer (lookups in flight finish into entries no longer held); returns how many were held. */
  clear(): number {
    const n = this.entries.size;
    this.entries.clear();
    return n;
  }
}
