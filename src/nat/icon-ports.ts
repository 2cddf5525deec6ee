/**
 * The ports of running ICONs on the home router (portMapping auto): mapped (IPv4) or let through its IPv6
 * firewall (pinholes), one IconPorts each. An ICON's start never waits for the search for a router's
 * service: where none answers, the search lasts until its timeouts (about 5.8 s, port-mapper.ts), and a
 * restarted node's first hot or cold start used to wait for all of it, so its client switched 5 s late.
 * A port attached while the search runs is opened once the search finds a service, before the node names
 * the router's outside address as its own (NatComponent); once a service is known, an ICON's start waits
 * for its own port, so no endpoint is handed out closed.
 */
import type { Logger } from "../log.ts";

/** Where ICON ports are opened: PortMappings or Pinholes. */
export interface PortOpener {
  add(purpose: "icon", protocol: "tcp", port: number): Promise<unknown>;
  remove(protocol: "tcp", port: number): Promise<void>;
}

export class IconPorts {
  private readonly attached = new Set<number>();
  private opener?: PortOpener;

  /** `what` names the opening in logs: "map", "open a pinhole for". */
  constructor(private readonly log: Logger, private readonly what = "map") {}

  /** An ICON's port reaches its container: opened now when a service is known, else when one is found. */
  async attach(port: number): Promise<void> {
    this.attached.add(port);
    if (!this.opener) return;
    try {
      await this.opener.add("icon", "tcp", port);
    } catch (e) {
      this.attached.delete(port);
      throw e;
    }
  }

  async detach(port: number): Promise<void> {
    this.attached.delete(port);
    await this.opener?.remove("tcp", port);
  }

  /** The search found a service and opened the node's ports: the ICON ports attached meanwhile follow. */
  async found(opener: PortOpener): Promise<void> {
    this.opener = opener;
    for (const port of [...this.attached]) {
      try {
        await opener.add("icon", "tcp", port);
        if (!this.attached.has(port)) await opener.remove("tcp", port); // its ICON stopped meanwhile
      } catch (e) {
        // Its ICON already runs: it stays reachable inside the LAN, and its next start tries again.
        this.log.warn(`could not ${this.what} a running ICON's port on the home router`, { port, error: (e as Error).message });
      }
    }
  }
}
