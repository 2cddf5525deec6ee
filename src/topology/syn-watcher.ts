/**
 * Starts the finder at a client's SYN. An ICON asks for closer nodes at the websocket upgrade, one RTT
 * after the client's TCP SYN reached this host (92 ms on the thesis network); the kernel tracks the
 * connection from its SYN on, so its new-connection event (conntrack/) names the client that much
 * earlier, and the trace and router lookups the ICON will wait for start then (Finder.prefetch; the
 * ICON's request joins that work).
 *
 * Anyone can send SYNs, from any source address, spoofed too: each prefetch of an unseen /24 costs a
 * trace of the source (probes that reach it: a spoofed source is a third party) and a lookup per router.
 * So only SYNs to this host's own addresses at the published port of an ICON that has asked for closer
 * nodes count (one that never asks, as a replica that stays put, has no use for the work), at most
 * SYN_RATE_PER_SUBNET per second per /24 (/48) and SYN_RATE in all (token buckets, as the peer port
 * counts handshakes: peer/limits.ts), and at most `concurrency` prefetches run at once (the harvester's
 * traceConcurrency); a SYN beyond that is dropped and counted, and its ICON starts the work at the
 * upgrade, as without the watcher. Clients of a /24 traced in the last traceCacheSec cost no trace.
 */
import type { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { TokenBuckets } from "../dht/rate-limit.ts";
import { subnetOf } from "../peer/limits.ts";
import { realClock, type Clock } from "../util/clock.ts";
import { openConntrackEvents, type EventSource } from "./conntrack/socket.ts";
import { IPPROTO_TCP, parseEvents } from "./conntrack/wire.ts";

/** Prefetches per second from one /24 (IPv6: /48), with a burst of twice that. */
export const SYN_RATE_PER_SUBNET = 1;
/** Prefetches per second in all, with a burst of twice that: what a flood from many /24s can start. */
export const SYN_RATE = 10;

export interface SynWatcherDeps {
  /** Whether a TCP port is published by one of this node's ICONs that ask for closer nodes (IconRecord.asksCloser). */
  asksCloserOn: (port: number) => boolean;
  /** This host's own addresses. */
  isSelf: (ip: string) => boolean;
  /** Starts the finder's work for a client; settles when it is done. */
  prefetch: (client: string) => Promise<unknown>;
  /** Prefetches running at once, at most. */
  concurrency: number;
  log: Logger;
  /** @default realClock */
  clock?: Clock;
  /** The event socket. @default openConntrackEvents */
  open?: () => EventSource;
}

export interface SynWatchStats {
  /** SYNs to an ICON's port seen. */
  syns: number;
  prefetched: number;
  /** Dropped: over the /24's rate or the overall one, or `concurrency` prefetches already running. */
  limited: number;
  malformed: number;
}

export class SynWatcher {
  readonly stats: SynWatchStats = { syns: 0, prefetched: 0, limited: 0, malformed: 0 };
  private readonly perSubnet: TokenBuckets;
  private readonly overall: TokenBuckets;
  private running = 0;
  private source?: EventSource;

  constructor(private readonly deps: SynWatcherDeps) {
    const clock = deps.clock ?? realClock;
    this.perSubnet = new TokenBuckets(clock, SYN_RATE_PER_SUBNET, 2 * SYN_RATE_PER_SUBNET, 4096);
    this.overall = new TokenBuckets(clock, SYN_RATE, 2 * SYN_RATE, 1);
  }

  /** Opens the event socket and reads it until stop(); false (and one log line) when events are unavailable. */
  start(): boolean {
    try {
      this.source = (this.deps.open ?? openConntrackEvents)();
    } catch (e) {
      const err = e as IconError;
      this.deps.log.info("clients' SYNs are not watched: the finder starts when an ICON asks", { error: err.message, fix: err.fix });
      return false;
    }
    void this.read(this.source);
    return true;
  }

  private async read(source: EventSource): Promise<void> {
    try {
      for (let bytes = await source.read(); bytes && this.source; bytes = await source.read()) this.handle(bytes);
    } catch (e) {
      if (this.source) this.deps.log.warn("the conntrack event socket failed: clients' SYNs are no longer watched", { error: e as Error });
    }
    this.stop();
  }

  /** One datagram (or several read back to back) of conntrack events. */
  handle(bytes: Uint8Array): void {
    const { asksCloserOn, isSelf } = this.deps;
    const connections = parseEvents(bytes, (e) => {
      if (this.stats.malformed++ === 0) this.deps.log.warn("a malformed conntrack event was skipped", { error: e.message });
    });
    for (const c of connections) {
      if (c.protocol !== IPPROTO_TCP || !asksCloserOn(c.destinationPort) || !isSelf(c.destination) || isSelf(c.source)) continue;
      this.stats.syns++;
      if (this.running >= this.deps.concurrency || !this.perSubnet.take(subnetOf(c.source)) || !this.overall.take("")) {
        this.stats.limited++;
        continue;
      }
      this.stats.prefetched++;
      this.running++;
      this.deps.prefetch(c.source).finally(() => this.running--);
    }
  }

  stop(): void {
    const source = this.source;
    this.source = undefined;
    source?.close();
  }
}
