/**
 * A running node: its identity, its components (DHT, topology, yard, peer protocol) and its local API.
 * Components start in order and stop in reverse; SIGINT/SIGTERM handling lives in `icon node start`.
 */
import { nodeAnswers } from "../api/client.ts";
import { serveApi, type ApiServer } from "../api/server.ts";
import type { Config } from "../config/schema.ts";
import { IconError } from "../errors.ts";
import { loadOrCreateIdentity, type Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import { VERSION } from "../version.ts";
import { nodeApi } from "./api.ts";
import { prepareDataDir } from "./data-dir.ts";
import type { NodeComponent } from "./component.ts";
import { YardComponent } from "../yard/component.ts";
import { EngineComponent } from "../engine/component.ts";
import { DhtComponent } from "../dht/component.ts";
import { TopologyComponent } from "../topology/component.ts";
import { PeerComponent } from "../peer/component.ts";
import { NatComponent } from "../nat/component.ts";
import { toHex } from "../util/hex.ts";
import { NodeMetrics } from "../metrics/node-metrics.ts";
import type { startNodeDashboard } from "../dashboard/node-dashboard.ts";

interface Parts {
  engine: EngineComponent;
  dht: DhtComponent;
  peer: PeerComponent;
  nat: NatComponent;
  topology: TopologyComponent;
  yard: YardComponent;
}

export class IconNode {
  private api?: ApiServer;
  private started = false;
  private startedAt = Date.now();
  private metricsOf?: NodeMetrics;
  private dashboard?: Awaited<ReturnType<typeof startNodeDashboard>>;

  private constructor(
    readonly config: Config,
    readonly log: Logger,
    readonly identity: Identity,
    readonly parts: Parts,
  ) {}

  static async create(config: Config, log: Logger): Promise<IconNode> {
    await prepareDataDir(config.dataDir, log);
    const { identity, created } = await loadOrCreateIdentity(config.dataDir);
    const nodeId = toHex(identity.nodeId);
    if (created) log.info("created a new node identity", { nodeId, dataDir: config.dataDir });
    // later components use dht.dht once started; a node announced nowhere is a DHT client (nat/component.ts)
    const dht = new DhtComponent({ config, identity, log: log.child("dht"), client: (family: 4 | 6): boolean => nat.dhtClient(family) });
    let peer: PeerComponent | undefined;
    let topology: TopologyComponent | undefined;
    const nat = new NatComponent({
      config, identity, log: log.child("nat"), dht: () => dht.dht, network: () => peer!.network,
      candidates: () => topology!.knownRouters().flatMap((r) => r.nodes.flatMap((n) => [n.address, n.address6].filter((a) => a !== undefined).map((address) => ({ nodeId: n.nodeId, address, port: n.peerPort })))),
      lookUpCandidates: () => topology!.lookUpKnownRouters(),
      onAnnounceable: (yes) => (yes ? topology?.releaseAnnouncements() : topology?.holdAnnouncements()),
    });
    const address = () => advertisedAddress(config, dht, nat);
    let yard: YardComponent | undefined;
    topology = new TopologyComponent({
      config, log: log.child("topology"), dht: () => dht.dht, peerPort: () => peer?.port ?? config.peerPort, announceAs: () => nat.announceAs(),
      asksCloserOn: (port) => yard?.yard?.records().some((r) => r.port === port && r.asksCloser === true) === true,
    });
    const engine = new EngineComponent({ config, log: log.child("engine") });
    // ICON ports are mapped on the home router while the ICONs run (portMapping auto).
    const iconEngine = () => ({ engine: engine.engine, network: nat.iconNetwork(engine.network), userns: engine.userns, importImage: engine.importImage });
    yard = new YardComponent({ config, nodeId, owner: identity, log: log.child("yard"), address, engine: iconEngine });
    const address6 = () => nat.externalAddress6() ?? dht.advertisedAddress6();
    peer = new PeerComponent({ config, identity, log: log.child("peer"), address, address6, topology, yard });
    return new IconNode(config, log, identity, { engine, dht, peer, nat, topology, yard });
  }

  get nodeId(): string {
    return toHex(this.identity.nodeId);
  }

  /**
   * In start order: dht, peer, nat, topology, engine, yard. The peer server binds before the topology
   * announces this node, so announcements carry its real port; nat (port mapping, dial-backs) needs both
   * and decides where the topology announces; the engine stops after the yard has stopped its ICONs.
   */
  get components(): NodeComponent[] {
    const { engine, dht, peer, nat, topology, yard } = this.parts;
    return [dht, peer, nat, topology, engine, yard];
  }

  /** The node's Prometheus metrics; there once it has started. */
  get metrics(): NodeMetrics {
    if (!this.metricsOf) throw new IconError("NOT_RUNNING", "the node's metrics exist once it has started", "Wait until the node has started.");
    return this.metricsOf;
  }

  /** `icon node status`: who and where this node is (the ports it really bound), then each component's own status. */
  async status() {
    const { engine, dht, peer, nat, topology, yard } = this.parts;
    return {
      nodeId: this.nodeId,
      /** The key this node signs its ICONs' manifests with: what another operator allows with `icon admission allow`. */
      ownerKey: toHex(this.identity.publicKey),
      version: VERSION,
      dataDir: this.config.dataDir,
      address: advertisedAddress(this.config, dht, nat),
      /** The IPv6 address peers reached this node at, else its bound or learned one; null without IPv6. */
      address6: nat.externalAddress6() ?? dht.advertisedAddress6() ?? null,
      dhtPort: dht.port,
      peerPort: peer.port,
      pid: process.pid,
      reachability: nat.status(),
      dht: dht.status(),
      peer: peer.status(),
      topology: topology.status(),
      engine: await engine.status(),
      yard: yard.status(),
      dashboard: this.dashboard ? { url: this.dashboard.server.url, token: this.dashboard.server.token !== undefined, socket: this.dashboard.server.socketPath } : { off: "dashboardListen is empty" },
    };
  }

  async start(): Promise<void> {
    // Before any component: a second node on this data dir would take over the ICONs' sockets and
    // containers, and a port clash would hide the real reason.
    if (await nodeAnswers(this.config.dataDir))
      throw new IconError("CONFLICT", `a node is already running with data dir ${this.config.dataDir}`, "Stop it first, or start this node with another --data-dir.");
    const done: NodeComponent[] = [];
    try {
      for (const c of this.components) {
        await c.start();
        done.push(c);
      }
      for (const c of this.components) await c.started?.();
      this.startedAt = Date.now();
      this.metricsOf = new NodeMetrics(this.parts, { nodeId: this.nodeId, version: VERSION, startedAt: this.startedAt });
      this.api = await serveApi(nodeApi(this, this.log.child("api")), this.config.dataDir);
      if (this.config.dashboardListen) {
        const { startNodeDashboard } = await import("../dashboard/node-dashboard.ts");
        this.dashboard = await startNodeDashboard(this, this.metricsOf, this.startedAt);
      }
    } catch (e) {
      await this.api?.stop().catch(() => {});
      for (const c of done.reverse()) await c.stop().catch(() => {});
      throw e;
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.dashboard?.stop().catch((e) => this.log.warn("could not stop the dashboard", { error: e }));
    this.metricsOf?.close();
    await this.api?.stop().catch((e) => this.log.warn("could not close the local API socket", { error: e }));
    for (const c of [...this.components].reverse()) {
      try {
        await c.stop();
      } catch (e) {
        this.log.warn(`stopping ${c.name} failed`, { error: e as Error });
      }
    }
  }
}

/**
 * Where other nodes and clients reach this one: --advertise, else where peers' dial-backs reached it
 * (behind a NAT: the router's outside address), else what peers report, else the listen address.
 */
function advertisedAddress(config: Config, dht: DhtComponent, nat: NatComponent): string {
  return config.advertise || nat.externalAddress() || dht.advertisedAddress() || config.listen;
}
