/**
 * ICONs on the node's own engine: each container in its holder's namespace on the node's bridge network
 * (netns-holders.ts), its pinned port held on the host (so no other process, nor another node, takes it
 * while the ICON runs) and forwarded to the container by the node's firewall (DNAT: the client's address
 * reaches the ICON unchanged).
 */
import { IconError } from "../../errors.ts";
import type { ContainerEngine } from "../container-engine.ts";
import type { IconNetFacts, IconNetwork } from "../icon-network.ts";
import type { Logger } from "../../log.ts";
import type { EgressPolicy, Firewall } from "./firewall.ts";
import { holderName, NetnsHolders } from "./netns-holders.ts";

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
    log: Logger,
    /** The bridge has IPv6: ICONs get an address there and their ports answer IPv6 clients too. */
    private readonly ipv6 = false,
  ) {
    this.netns = new NetnsHolders(engine, network, ipv6, log);
  }

  private readonly netns: NetnsHolders;

  /** The namespace of the ICON's holder (netns-holders.ts), on the bridge. */
  spec(_port: number, icon: string): { mode: "container"; container: string } {
    return { mode: "container", container: holderName(icon) };
  }

  async check(icon: string): Promise<void> {
    await this.netns.ensure(icon);
  }

  prepare(icons: string[]): Promise<void> {
    return this.netns.prepare(icons);
  }

  remove(icon: string): Promise<void> {
    return this.netns.remove(icon);
  }

  async attach(containerId: string, port: number, icon: string): Promise<IconNetFacts> {
    const info = await this.engine.inspectContainer(containerId);
    // A container made before holders has an address of its own while it runs; one in its holder's namespace
    // has the holder's, running or not: an ICON that crashed at once may have exited before this, and must
    // fail with its exit code and logs (lifecycle.ts), not for want of an address.
    const held = info?.joinsNetworkOf ? await this.netns.ensure(icon) : undefined;
    const own = held ? undefined : info?.addresses[this.network];
    const address = own ?? held?.address;
    const address6 = !this.ipv6 ? undefined : own ? info?.addresses6?.[this.network] : held?.address6;
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
    this.netns.close();
    for (const port of [...this.holders.keys()]) this.release(port);
  }
}
