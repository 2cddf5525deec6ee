/**
 * The ports of running ICONs on the home router (portMapping auto). An ICON's start never waits for
 * the gateway search: where no router answers, the search lasts until its timeouts (about 5.8 s,
 * port-mapper.ts), and a restarted node's first hot or cold start used to wait for all of it, so its
 * client switched 5 s late. A port attached while the search runs is mapped once the search finds a
 * router, before the node names the router's outside address as its own (NatComponent); once a router
 * is known, an ICON's start waits for its own mapping, so no endpoint is handed out unmapped.
 */
import type { Logger } from "../log.ts";
import type { PortMappings } from "./mappings.ts";

export class IconPorts {
  private readonly attached = new Set<number>();
  private mappings?: PortMappings;

  constructor(private readonly log: Logger) {}

  /** An ICON's port reaches its container: mapped now when a router is known, else when one is found. */
  async attach(port: number): Promise<void> {
    this.attached.add(port);
    if (!this.mappings) return;
    try {
      await this.mappings.add("icon", "tcp", port);
    } catch (e) {
      this.attached.delete(port);
      throw e;
    }
  }

  async detach(port: number): Promise<void> {
    this.attached.delete(port);
    await this.mappings?.remove("tcp", port);
  }

  /** The search found a router and mapped the node's ports: the ICON ports attached meanwhile follow. */
  async found(mappings: PortMappings): Promise<void> {
    this.mappings = mappings;
    for (const port of [...this.attached]) {
      try {
        await mappings.add("icon", "tcp", port);
        if (!this.attached.has(port)) await mappings.remove("tcp", port); // its ICON stopped meanwhile
      } catch (e) {
        // Its ICON already runs: it stays reachable inside the LAN, and its next start tries again.
        this.log.warn("could not map a running ICON's port on the home router", { port, error: (e as Error).message });
      }
    }
  }
}
