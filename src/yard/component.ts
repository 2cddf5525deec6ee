/**
 * The yard as a part of a running node, on the node's engine (engine/component.ts). A node starts even
 * when an external Docker engine is down (its DHT and topology are still useful); the yard then answers
 * every request with the DOCKER error and its fix, and tries again (ping + reconcile) on the next request.
 */
import type { Config } from "../config/schema.ts";
import type { Identity } from "../identity/identity.ts";
import { IconError, isIconError, toIconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import type { NodeEngine } from "../engine/component.ts";
import { yardRoutes } from "./routes.ts";
import { Yard } from "./yard.ts";

export interface YardComponentInit {
  config: Config;
  nodeId: string;
  /** The node's key: it signs the manifests of the root ICONs run here. */
  owner: Identity;
  log: Logger;
  /** Where clients reach this node's ICONs. */
  address: () => string;
  /** The engine, once its component started. */
  engine: () => NodeEngine;
}

export class YardComponent implements NodeComponent {
  readonly name = "yard";
  /** Set once start() ran; the peer protocol subscribes to yard.events and calls setServices. */
  yard!: Yard;
  private reconciled?: Promise<void>;
  private problem?: IconError;
  private docker = "";

  constructor(private readonly init: YardComponentInit) {}

  async start(): Promise<void> {
    // Reconciling takes over the ICONs' sockets and containers: IconNode.start() made sure no live node
    // uses this data dir.
    const { config, log } = this.init;
    const { engine, network, userns, importImage } = this.init.engine();
    this.yard = new Yard({ config, nodeId: this.init.nodeId, owner: this.init.owner, log, engine, network, userns, importImage, address: this.init.address });
    try {
      await this.ready();
    } catch (e) {
      if (!isIconError(e, "DOCKER") && !isIconError(e, "PERMISSION")) throw e;
      log.warn("the yard cannot use Docker yet; ICON commands will fail until it can", { error: e.message, fix: e.fix });
    }
  }

  /** The yard once Docker answered and this node's containers were reconciled; retried on failure. */
  async ready(): Promise<Yard> {
    this.reconciled ??= (async () => {
      const info = await this.yard.engine.ping();
      this.docker = `Docker ${info.version} (API ${info.apiVersion})`;
      await this.yard.reconcile();
      this.problem = undefined;
    })().catch((e) => {
      this.reconciled = undefined;
      this.problem = toIconError(e);
      throw e;
    });
    await this.reconciled;
    return this.yard;
  }

  async stop(): Promise<void> {
    const ok = await this.reconciled?.then(() => true, () => false);
    if (ok) await this.yard.close();
  }

  routes() {
    return yardRoutes(() => this.ready());
  }

  status() {
    return { docker: this.problem ? `unavailable: ${this.problem.message}` : this.docker || "not checked", ...this.yard.status() };
  }
}
