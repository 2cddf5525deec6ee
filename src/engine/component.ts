/**
 * The node's container engine as a part of the node: with engine own (the default), a dockerd of its
 * own started before the yard and stopped after it (own/own-engine.ts); with engine external, the
 * Docker engine at dockerSocket, which the node neither starts nor stops. Either way the operator's
 * engine (dockerSocket) is where `icon run IMAGE` copies an image from when the node's engine lacks it,
 * and nothing of a peer's ever goes there.
 */
import type { Config } from "../config/schema.ts";
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import type { ContainerEngine } from "./container-engine.ts";
import { copyImage, type CopyImageResult } from "./copy-image.ts";
import { createDockerEngine } from "./docker-engine.ts";
import { publishedNetwork, type IconNetwork } from "./icon-network.ts";
import type { OwnEngine } from "./own/own-engine.ts";
import { formatCidr } from "../util/ipv4.ts";

/** What the yard runs ICONs with. */
export interface NodeEngine {
  engine: ContainerEngine;
  network: IconNetwork;
  /** Whether uid 0 in a container is another uid on the host (user namespaces). */
  userns: boolean;
  /** Brings an image from the operator's engine into this one (`icon run`); undefined when they are one engine. */
  importImage?(ref: string): Promise<CopyImageResult>;
}

export class EngineComponent implements NodeComponent, NodeEngine {
  readonly name = "engine";
  engine!: ContainerEngine;
  network!: IconNetwork;
  userns = false;
  private own?: OwnEngine;

  constructor(private readonly init: { config: Config; log: Logger }) {}

  async start(): Promise<void> {
    const { config, log } = this.init;
    if (config.engine === "external") {
      this.engine = await createDockerEngine(config.dockerSocket);
      this.network = publishedNetwork(this.engine, { networkContainer: config.networkContainer, hostIp: config.listen });
      return;
    }
    if (config.networkContainer)
      throw new IconError("CONFIG", `networkContainer "${config.networkContainer}" applies only with engine external`,
        "Clear networkContainer (the node's own engine puts ICONs on its own bridge), or set engine to external.");
    const { OwnEngine } = await import("./own/own-engine.ts");
    this.own = await OwnEngine.start({ dataDir: config.dataDir, subnet: config.iconSubnet, egress: config.iconEgress, listen: config.listen, listen6: config.listen6, registry: config.registry, log });
    this.engine = this.own.engine;
    this.network = this.own.network;
    this.userns = true;
  }

  readonly importImage = async (ref: string): Promise<CopyImageResult> => {
    const socket = this.init.config.dockerSocket;
    const user = await createDockerEngine(socket);
    const r = await copyImage(ref, { engine: user, name: `the operator's engine (${socket})` }, { engine: this.engine, name: "the node's engine" });
    if (r.copied) this.init.log.info("copied an image from the operator's engine", { image: ref, bytes: r.bytes, ms: r.ms });
    return r;
  };

  async stop(): Promise<void> {
    await this.own?.stop();
  }

  async status() {
    const own = this.own;
    if (!own) return { mode: "external" as const, socket: this.init.config.dockerSocket, userns: false, egress: this.network?.egress };
    return {
      mode: "own" as const, socket: own.plan.socket, pid: own.pid, reused: own.reused, startMs: own.startMs, dataRoot: own.plan.dataRoot,
      log: own.plan.log, bridge: own.plan.bridge, subnet: formatCidr(own.subnet),
      egress: own.network.egress, userns: true, dropped: await own.dropped(),
    };
  }
}
