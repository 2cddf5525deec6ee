/**
 * How an ICON's container is networked, as the yard sees it: what the container joins, what happens
 * once it runs (its port made reachable) and once it stops, and what the node can say about it
 * (`icon ps --json`). The node's own engine puts ICONs on its bridge behind its firewall
 * (own/bridge-network.ts); an external engine publishes ports through Docker, or joins another
 * container's namespace (the testbed's --docker mode), and filters nothing.
 */
import { IconError } from "../errors.ts";
import type { ContainerEngine, NetworkSpec } from "./container-engine.ts";

export type Egress = "internet" | "none" | "unfiltered";

export interface IconNetFacts {
  /** internet or none: the node's firewall applies; unfiltered: the node filters nothing (external engine). */
  egress: Egress;
  /** The ICON's address on its bridge, while it runs (the node's own engine only). */
  address?: string;
  /** Its IPv6 address there, when the bridge has IPv6. */
  address6?: string;
}

export interface IconNetwork {
  readonly egress: Egress;
  /** What ICON `icon`'s container joins; the ICON listens on `port` inside, as its clients see it outside. */
  spec(port: number, icon: string): NetworkSpec;
  /** Before ICON `icon`'s container is created or started: what it joins must be there. */
  check(icon: string): Promise<void>;
  /** Once ICON `icon`'s container runs: make `port` reach it. */
  attach(containerId: string, port: number, icon: string): Promise<IconNetFacts>;
  /** Once it stopped or is removed. Never throws. */
  detach(port: number): Promise<void>;
  /** At node start, with every ICON the node holds: get ready to start them (in the background). */
  prepare?(icons: string[]): Promise<void>;
  /** Once ICON `icon` is removed. */
  remove?(icon: string): Promise<void>;
}

/**
 * An external engine: ports published by Docker on `hostIp` (empty: every address) on its default
 * bridge, or the namespace of container `networkContainer`.
 */
export function publishedNetwork(engine: ContainerEngine, o: { networkContainer: string; hostIp: string }): IconNetwork {
  const facts: IconNetFacts = { egress: "unfiltered" };
  return {
    egress: "unfiltered",
    spec: (port) =>
      o.networkContainer
        ? { mode: "container", container: o.networkContainer }
        : // Same number inside and out: the ICON listens on ICON_PORT whichever mode the node runs in.
          { mode: "publish", hostIp: o.hostIp === "0.0.0.0" ? "" : o.hostIp, ports: [{ host: port, container: port }] },
    async check() {
      // The namespace to join must exist and run, or Docker's error is obscure.
      const name = o.networkContainer;
      if (!name) return;
      const c = await engine.inspectContainer(name);
      if (!c?.running)
        throw new IconError("CONFIG", `networkContainer "${name}" ${c ? "is not running" : "does not exist"}: ICONs join its network namespace`,
          `Start that container (the testbed does), or clear the networkContainer setting to publish ports instead.`);
    },
    attach: async () => facts,
    detach: async () => {},
  };
}
