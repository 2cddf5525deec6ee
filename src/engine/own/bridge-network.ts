/**
 * ICONs on the node's own engine: each container on the node's bridge network, its pinned port held on
 * the host (so no other process, nor another node, takes it while the ICON runs) and forwarded to the
 * container by the node's firewall (DNAT: the client's address reaches the ICON unchanged).
 */
import { IconError } from "../../errors.ts";
import type { ContainerEngine } from "../container-engine.ts";
import type { IconNetFacts, IconNetwork } from "../icon-network.ts";
import type { EgressPolicy, Firewall } from "./firewall.ts";

type Holder = { stop(closeActive?: boolean): void };

export class BridgeNetwork implements IconNetwork {
  private readonly holders = new Map<number, Holder[]>();

  constructor(
    private readonly engine: ContainerEngine,
    private readonly firewall: Firewall,
    /** The Docker network on the bridge. */
    private readonly network: string,
    /** The addresses published ports answer on (config listen, and listen6 when the bridge has IPv6). */
    private readonly listen: string[],
    readonly egress: EgressPolicy,
    /** The bridge has IPv6: ICONs get an address there and their ports answer IPv6 clients too. */
    private readonly ipv6 = false,
  ) {}

  spec(): { mode: "network"; network: string; ipv6?: true } {
    return { mode: "network", network: this.network, ...(this.ipv6 ? { ipv6: true as const } : {}) };
  }

  async check(): Promise<void> {}

  async attach(containerId: string, port: number): Promise<IconNetFacts> {
    const info = await this.engine.inspectContainer(containerId);
    const address = info?.addresses[this.network];
    const address6 = this.ipv6 ? info?.addresses6?.[this.network] : undefined;
    if (!address) throw new IconError("DOCKER", `container ${containerId.slice(0, 12)} has no address on the node's network ${this.network}`, "See the node's engine.log.");
    if (!this.holders.has(port)) {
      const held: Holder[] = [];
      try {
        // Nothing is ever read here: the firewall forwards every connection before it would arrive.
        for (const hostname of this.listen) held.push(Bun.listen({ hostname, port, socket: { open: (s) => void s.end(), data() {} } }));
      } catch (e) {
        for (const h of held) h.stop(true);
        throw new IconError("CONFLICT", `port ${port} is taken on ${this.listen.join(" or ")}: ${(e as Error).message}`,
          "Choose another --port, or stop whatever holds it (ss -ltnp shows it).");
      }
      this.holders.set(port, held);
    }
    try {
      await this.firewall.publish(port, address, address6);
    } catch (e) {
      this.release(port);
      throw e;
    }
    return { egress: this.egress, address, ...(address6 ? { address6 } : {}) };
  }

  private release(port: number): void {
    for (const h of this.holders.get(port) ?? []) h.stop(true);
    this.holders.delete(port);
  }

  async detach(port: number): Promise<void> {
    this.release(port);
    await this.firewall.unpublish(port).catch(() => {});
  }

  /** Lets go of every held port (the node stops; the firewall goes with the engine). */
  close(): void {
    for (const port of [...this.holders.keys()]) this.release(port);
  }
}
