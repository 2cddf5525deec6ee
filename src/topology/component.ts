/**
 * Topology discovery as a part of a running node (thesis figure 3.1, "network topology manager"): it
 * starts after the DHT, traces the addresses the DHT talks to, announces this node under every router it
 * sees, and answers `closest`. Other components (the yard, the peer protocol) call harvest() when a
 * client connects to an ICON and closest() when the ICON asks where to go.
 */
import type { Config } from "../config/schema.ts";
import type { Dht } from "../dht/dht.ts";
import { IconError, toIconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import { DhtDirectory, type AnnounceAs } from "./dht-directory.ts";
import type { RouterAnnouncement } from "./directory.ts";
import type { RouterEntry } from "./map.ts";
import type { Candidate } from "../yard/protocol.ts";
import { closerCandidates, type ClosestAnswer } from "./finder.ts";
import { topologyRoutes } from "./routes.ts";
import { libc } from "./trace/libc.ts";
import type { Tracer } from "./trace/types.ts";
import { UdpTracer } from "./trace/udp-tracer.ts";
import { localAddresses, Topology, type TopologySettings } from "./topology.ts";
import { SynWatcher, type SynWatchStats } from "./syn-watcher.ts";

/** Routers looked up for nodes to ask for dial-backs: a few traces' worth. */
const MAX_ROUTERS_LOOKED_UP = 32;

export interface TopologyComponentInit {
  config: Config;
  log: Logger;
  /** The node's DHT, once its component has started. */
  dht: () => Dht;
  /** The peer-protocol port other nodes reach this one on; the configured one by default. */
  peerPort?: () => number;
  /** @default UdpTracer */
  tracer?: Tracer;
  /** Where this node is announced, or why not now (nat/component.ts). @default the DHT's address, the bound ports */
  announceAs?: () => AnnounceAs;
  /** Whether a TCP port is published by an ICON that asks for closer nodes: clients' SYNs there start the finder (config synPrefetch). */
  asksCloserOn?: (port: number) => boolean;
}

export class TopologyComponent implements NodeComponent {
  readonly name = "topology";
  private topology?: Topology;
  private synWatcher?: SynWatcher;
  private problem?: IconError;

  constructor(private readonly init: TopologyComponentInit) {}

  get settings(): TopologySettings {
    const { routerMask, clientPrefix, traceCacheSec, traceConcurrency, maxTtl, announceSec } = this.init.config;
    return { routerMask, clientPrefix, traceCacheSec, traceConcurrency, maxTtl, announceSec };
  }

  async start(): Promise<void> {
    const { config, log } = this.init;
    if (!config.topology) {
      // A DHT helper: nothing traced, nothing announced, so no ICON is ever sent here.
      this.problem = new IconError("NOT_RUNNING", "topology discovery is off on this node (topology: false): it only serves the DHT", "Set topology to true (ICON_TOPOLOGY=true) on a node that should run replicas.");
      return;
    }
    if (!this.init.tracer) {
      try {
        libc();
      } catch (e) {
        // The node is still useful without traces (DHT, yard); closest() says why it cannot answer.
        this.problem = toIconError(e);
        log.warn("topology discovery is off: the traceroute cannot run here", { error: this.problem.message, fix: this.problem.fix });
        return; // no topology: DHT traffic would only start traces that fail
      }
    }
    const tracer = this.init.tracer ?? new UdpTracer();
    // One loopback probe now compiles the trace path, so the first client's trace is not the slow one.
    if (!this.init.tracer) void tracer.trace("127.0.0.1", { maxTtl: 1, capMs: 100 }).catch(() => {});
    const own = localAddresses();
    const self = new Set([config.listen, config.advertise].filter(Boolean));
    const isSelf = (ip: string) => self.has(ip) || own(ip);
    const topology = new Topology({
      tracer,
      directory: new DhtDirectory(this.init.dht(), this.init.peerPort ?? (() => config.peerPort), config.price, this.init.announceAs),
      settings: this.settings,
      log,
      isSelf,
    });
    this.topology = topology;
    topology.start();
    const { asksCloserOn } = this.init;
    if (config.synPrefetch && asksCloserOn) {
      this.synWatcher = new SynWatcher({ asksCloserOn, isSelf, prefetch: (ip) => topology.finder.prefetch(ip), concurrency: config.traceConcurrency, log });
      if (!this.synWatcher.start()) this.synWatcher = undefined;
    }
  }

  async stop(): Promise<void> {
    this.synWatcher?.stop();
    await this.topology?.stop();
  }

  private running(): Topology {
    if (this.problem) throw this.problem;
    if (!this.topology) throw new IconError("NOT_RUNNING", "topology discovery has not started", "Wait until the node has started.");
    return this.topology;
  }

  /** An address worth knowing; `urgent` for a client that just connected (starts the closest work now). */
  harvest(ip: string, opts: { urgent?: boolean } = {}): void {
    this.topology?.harvest(ip, opts);
  }

  /** The nodes closest to a client, best first. */
  closest(client: string, opts: { fresh?: boolean } = {}): Promise<ClosestAnswer> {
    return this.running().closest(client, opts);
  }

  /**
   * An ICON's `findCloser` (yard services): the nodes estimated closer to the client than this one, in the
   * runtime protocol's shape, closest first.
   */
  async findCloser(client: string): Promise<Candidate[]> {
    return closerCandidates(await this.closest(client));
  }

  routes() {
    return topologyRoutes(() => this.running(), () => this.settings);
  }

  /** The node may not announce itself for now (it cannot be reached): its announcements are withdrawn. */
  holdAnnouncements(): void {
    this.topology?.announcer.hold();
  }

  /** The node may announce itself again. */
  releaseAnnouncements(): void {
    this.topology?.announcer.release();
  }

  /** Traces run by result, or undefined while discovery is off. */
  traceCounts(): { ok: number; failed: number } | undefined {
    return this.topology?.traceCounts;
  }

  /**
   * The routers this node traced, nearest first, each with the other nodes it knows announced under it:
   * what its last lookups found and what its own DHT store holds. Never touches the network.
   */
  knownRouters(): (RouterEntry & { announcedAt?: number; nodes: RouterAnnouncement[] })[] {
    const topology = this.topology;
    if (!topology) return [];
    const dht = this.init.dht();
    return topology.snapshot().routers.map((r) => {
      const byNode = new Map<string, RouterAnnouncement>();
      for (const a of [...(topology.lookups.peek(r.routerId) ?? []), ...dht.localAnnouncements(r.routerId)]) if (a.nodeId !== dht.nodeId) byNode.set(a.nodeId, a);
      return { ...r, nodes: [...byNode.values()].sort((a, b) => a.rttMs - b.rttMs) };
    });
  }

  /**
   * Looks up the announcements under the routers this node traced (at most `max`, nearest first), so that
   * knownRouters() names the nodes announced there. A node behind a NAT asks them to dial it back
   * (nat/component.ts). Lookups answered recently come from the cache.
   */
  async lookUpKnownRouters(max = MAX_ROUTERS_LOOKED_UP): Promise<void> {
    const topology = this.topology;
    if (topology) await Promise.all(topology.snapshot().routers.slice(0, max).map((r) => topology.lookups.get(r.routerId)));
  }

  status(): { off: string } | { routers: number; announced: number; cachedTraces: number; tracesRun: number; synWatch: SynWatchStats | null } {
    if (this.problem || !this.topology) return { off: this.problem?.message ?? "not started" };
    const s = this.topology.snapshot();
    return { routers: s.routers.length, announced: s.announcer.announced, cachedTraces: s.cachedTraces, tracesRun: s.harvest.traced, synWatch: this.synWatcher?.stats ?? null };
  }
}
