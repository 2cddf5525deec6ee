/**
 * The peer protocol inside a running node: the authenticated websocket server on --peer-port, the
 * source side of replicate (the services it gives the yard's ICONs), the target side that answers
 * other nodes, and image shipping (replicate.ts).
 */
import type { Config } from "../config/schema.ts";
import type { Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import type { TopologyComponent } from "../topology/component.ts";
import type { YardComponent } from "../yard/component.ts";
import { startReplicate } from "./replicate.ts";
import type { ReplicateSource } from "./replicate-source.ts";
import type { ImageShipping } from "../images/images.ts";
import { PeerNetwork } from "./network.ts";
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
  source?: ReplicateSource;
  images?: ImageShipping;

  constructor(private readonly init: PeerComponentInit) {}

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
    const started = await startReplicate({
      network: this.network, yard, ready: () => yardComponent.ready(), findCloser: (client) => topology.findCloser(client), log, prefetchAfter: config.prefetchAfter, images: config,
    });
    this.source = started.source;
    this.images = started.shipping;
  }

  async stop(): Promise<void> {
    this.images?.close();
    await this.network?.stop();
  }

  routes() {
    return peerRoutes(() => this.network);
  }

  status() {
    return { port: this.port, connections: this.network.connections().length, ...(this.images ? { images: this.images.status() } : {}) };
  }
}
