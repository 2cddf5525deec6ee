/**
 * A running node: its identity, its components (DHT, topology, yard, peer protocol) and its local API.
 * Components start in order and stop in reverse; SIGINT/SIGTERM handling lives in `icon node start`.
 */
import { mkdir } from "node:fs/promises";
import { serveApi, createApiApp, type ApiServer } from "../api/server.ts";
import type { Config } from "../config/schema.ts";
import { loadOrCreateIdentity, type Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import { VERSION } from "../version.ts";
import type { NodeComponent } from "./component.ts";
import { YardComponent } from "../yard/component.ts";
import { DhtComponent } from "../dht/component.ts";
import { TopologyComponent } from "../topology/component.ts";
import { PeerComponent } from "../peer/component.ts";
import { toHex } from "../util/hex.ts";

export class IconNode {
  readonly components: NodeComponent[] = [];
  private api?: ApiServer;
  private started = false;

  private constructor(
    readonly config: Config,
    readonly log: Logger,
    readonly identity: Identity,
  ) {}

  static async create(config: Config, log: Logger): Promise<IconNode> {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const { identity, created } = await loadOrCreateIdentity(config.dataDir);
    if (created) log.info("created a new node identity", { nodeId: toHex(identity.nodeId), dataDir: config.dataDir });
    const node = new IconNode(config, log, identity);
    // Components, in start order: dht, peer, topology, yard.
    const dht = new DhtComponent({ config, identity, log: log.child("dht") }); // later components use dht.dht once started
    node.components.push(dht);
    const address = () => config.advertise || dht.dht.advertisedAddress() || config.listen;
    let peer: PeerComponent | undefined;
    const topology = new TopologyComponent({ config, log: log.child("topology"), dht: () => dht.dht, peerPort: () => peer?.port ?? config.peerPort });
    const yard = new YardComponent({ config, nodeId: node.nodeId, log: log.child("yard"), address });
    peer = new PeerComponent({ config, identity, log: log.child("peer"), address, topology, yard });
    // The peer server binds before the topology announces this node, so announcements carry its real port.
    node.components.push(peer, topology, yard);
    return node;
  }

  get nodeId(): string {
    return toHex(this.identity.nodeId);
  }

  status(): Record<string, unknown> {
    const merged: Record<string, unknown> = {
      nodeId: this.nodeId,
      version: VERSION,
      dataDir: this.config.dataDir,
      address: this.config.advertise || this.config.listen,
      dhtPort: this.config.dhtPort,
      peerPort: this.config.peerPort,
      pid: process.pid,
    };
    for (const c of this.components) Object.assign(merged, c.status?.());
    return merged;
  }

  async start(): Promise<void> {
    const done: NodeComponent[] = [];
    try {
      for (const c of this.components) {
        await c.start();
        done.push(c);
      }
      for (const c of this.components) await c.started?.();
      const app = createApiApp({ log: this.log.child("api"), components: this.components, status: () => this.status() });
      this.api = await serveApi(app, this.config.dataDir);
    } catch (e) {
      for (const c of done.reverse()) await c.stop().catch(() => {});
      throw e;
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
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
