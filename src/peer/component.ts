/**
 * The peer protocol inside a running node: the authenticated websocket server on --peer-port, the
 * source side of replicate (the services it gives the yard's ICONs), the target side that answers
 * other nodes, and image shipping (replicate.ts).
 */
import { quotaFrom } from "../config/quota.ts";
import { QUOTA_DEFAULTS, type Config } from "../config/schema.ts";
import type { Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import type { TopologyComponent } from "../topology/component.ts";
import type { YardComponent } from "../yard/component.ts";
import { MigrationHistory } from "./history.ts";
import { toHex } from "../util/hex.ts";
import { Admission } from "./admission.ts";
import { admissionRoutes } from "./admission-routes.ts";
import { startReplicate } from "./replicate.ts";
import type { ReplicateSource } from "./replicate-source.ts";
import type { ReplicateTarget } from "./replicate-target.ts";
import type { ImageShipping } from "../images/images.ts";
import { PeerNetwork } from "./network.ts";
import { peerRoutes } from "./routes.ts";

export interface PeerComponentInit {
  config: Config;
  identity: Identity;
  log: Logger;
  /** The address other nodes reach this one at. */
  address: () => string;
  /** Its IPv6 address, if it has one. */
  address6?: () => string | undefined;
  topology: TopologyComponent;
  yard: YardComponent;
}

export class PeerComponent implements NodeComponent {
  readonly name = "peer";
  network!: PeerNetwork;
  admission!: Admission;
  source?: ReplicateSource;
  readonly history: MigrationHistory;
  /** Replicates refused by a quota or policy, by reason (the metrics read it). */
  readonly refusals: Record<string, number> = {};
  target?: ReplicateTarget;
  images?: ImageShipping;

  constructor(private readonly init: PeerComponentInit) {
    this.history = new MigrationHistory(init.config.migrationHistory);
  }

  get port(): number {
    return this.network?.port ?? this.init.config.peerPort;
  }

  async start(): Promise<void> {
    const { config, identity, log, address } = this.init;
    this.admission = await Admission.open(config.dataDir, config.admission, toHex(identity.publicKey));
    this.network = new PeerNetwork({ identity, log, listen: config.listen, listen6: config.listen6, port: config.peerPort, advertisedAddress: address, advertisedAddress6: this.init.address6, dataDir: config.dataDir });
    await this.network.start();
    log.info("peer protocol listening", { address: `${config.listen}:${this.network.port}` });
  }

  /** Once the yard runs: plug the services in and answer other nodes. */
  async started(): Promise<void> {
    const { config, log, yard: yardComponent, topology } = this.init;
    const yard = yardComponent.yard;
    const quotas = {
      perOwner: quotaFrom(config.quotaPerOwner, QUOTA_DEFAULTS.perOwner),
      perPeer: quotaFrom(config.quotaPerPeer, QUOTA_DEFAULTS.perPeer),
      total: quotaFrom(config.quotaTotal, QUOTA_DEFAULTS.total),
    };
    const started = await startReplicate({
      network: this.network, yard, ready: () => yardComponent.ready(), findCloser: (client) => topology.findCloser(client), log, prefetchAfter: config.prefetchAfter,
      images: config,
      registry: config.registry,
      admission: this.admission, quotas,
      history: this.history,
      onRefused: (reason) => (this.refusals[reason] = (this.refusals[reason] ?? 0) + 1),
    });
    ({ source: this.source, target: this.target, shipping: this.images } = started);
  }

  async stop(): Promise<void> {
    this.images?.close();
    await this.network?.stop();
  }

  routes() {
    return peerRoutes(() => this.network, this.history);
  }

  admissionRoutes() {
    return admissionRoutes(() => this.admission);
  }

  status() {
    const { mode, owners } = this.admission.view();
    return {
      port: this.port, ...this.network.status(),
      admission: { mode, owners: owners.length, refused: this.target?.refused() },
      ...(this.images ? { images: this.images.status() } : {}),
    };
  }
}
