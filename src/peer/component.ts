/**
 * The peer protocol inside a running node: the authenticated websocket server on --peer-port, the
 * migration services it gives the yard's ICONs, the replica host that answers other nodes, and image
 * shipping. Root ICONs' images are saved and split as soon as they run, so a cold migration does not
 * wait for `docker save`.
 */
import type { Config } from "../config/schema.ts";
import type { Identity } from "../identity/identity.ts";
import { engineImageHost } from "../images/engine-host.ts";
import { LayerSource, OP_LAYERS } from "../images/ship.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import type { TopologyComponent } from "../topology/component.ts";
import type { YardComponent } from "../yard/component.ts";
import { MigrationHistory } from "./history.ts";
import { Migration } from "./migration.ts";
import { PeerNetwork } from "./network.ts";
import { OP } from "./ops.ts";
import { ReplicaHost } from "./replica-host.ts";
import { peerRoutes } from "./routes.ts";

export interface PeerComponentInit {
  config: Config;
  identity: Identity;
  log: Logger;
  /** The address other nodes reach this one at. */
  address: () => string;
  topology: TopologyComponent;
  yard: YardComponent;
}

export class PeerComponent implements NodeComponent {
  readonly name = "peer";
  network!: PeerNetwork;
  migration?: Migration;
  readonly history: MigrationHistory;
  /** Replicates refused by a quota or policy, by reason (the metrics read it). */
  readonly refusals: Record<string, number> = {};

  constructor(private readonly init: PeerComponentInit) {
    this.history = new MigrationHistory(init.config.migrationHistory);
  }

  get port(): number {
    return this.network?.port ?? this.init.config.peerPort;
  }

  async start(): Promise<void> {
    const { config, identity, log, address } = this.init;
    this.network = new PeerNetwork({ identity, log, listen: config.listen, port: config.peerPort, advertisedAddress: address, dataDir: config.dataDir });
    await this.network.start();
    log.info("peer protocol listening", { address: `${config.listen}:${this.network.port}` });
  }

  /** Once the yard runs: plug the services in and answer other nodes. */
  async started(): Promise<void> {
    const { config, log, yard: yardComponent, topology } = this.init;
    const yard = yardComponent.yard;
    const images = engineImageHost(yard.engine);
    const layers = new LayerSource(images, log.child("images"));
    const host = new ReplicaHost({ nodeId: this.network.nodeId, network: this.network, yard: () => yardComponent.ready(), images, log });
    this.migration = new Migration({
      nodeId: this.network.nodeId,
      network: this.network,
      yard,
      findCloser: (client) => topology.findCloser(client),
      images,
      layers,
      log,
      prefetchAfter: config.prefetchAfter,
      history: this.history,
      onRefused: (reason) => (this.refusals[reason] = (this.refusals[reason] ?? 0) + 1),
    });
    this.network.handle(OP.replicate, host.replicate);
    this.network.handle(OP_LAYERS, layers.serve);
    this.network.handle(OP.message, this.migration.message);
    this.network.onMessage(OP.status, this.migration.status);
    this.network.onMessage(OP.offer, host.offer);
    host.watch(yard);
    yard.setServices(this.migration);
    yard.events.on("state", (ev) => {
      const rec = ev.state === "RUNNING" ? yard.record(ev.name) : undefined;
      if (rec?.role === "root") layers.prepare(rec.image).catch((e) => log.warn("could not prepare the image for shipping", { image: rec.image, error: e as Error }));
    });
  }

  async stop(): Promise<void> {
    await this.network?.stop();
  }

  routes() {
    return peerRoutes(() => this.network, this.history);
  }

  status() {
    return { port: this.port, connections: this.network.connections().length };
  }
}
