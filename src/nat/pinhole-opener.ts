/**
 * A home router's IPv6 firewall, as the node opens it: homes route IPv6 without NAT, but most routers
 * drop unsolicited inbound IPv6, so a node asks for pinholes for its own address and ports. Through the
 * UPnP IGD's WANIPv6FirewallControl (upnp-firewall.ts) when an IGD answers the SSDP search over IPv6,
 * lists that service and allows inbound pinholes; else through PCP's MAP at the IPv6 default router
 * (pcp.ts), when it answers an ANNOUNCE.
 */
import type { Logger } from "../log.ts";
import type { Lan6 } from "./lan6.ts";
import { Pcp } from "./pcp.ts";
import type { Protocol } from "./port-mapper.ts";
import { ssdpSearch } from "./upnp.ts";
import { UpnpFirewall } from "./upnp-firewall.ts";

/** Both services name the protocol by its IANA number. */
export const IANA_PROTOCOL: Record<Protocol, number> = { tcp: 6, udp: 17 };

export interface PinholeOpener {
  readonly via: "upnp" | "pcp";
  /** The service asked: the IGD's description URL, or the PCP server's address. */
  readonly gateway: string;
  /** The node's IPv6 address the pinholes open to (and the requests are sent from). */
  readonly address: string;
  /**
   * Lets `protocol` from anywhere in to `address`:`port` for `lifetimeSec`; with `id` (what an earlier
   * open answered) that pinhole is renewed. The id to renew or remove it with, and the lease granted.
   */
  open(protocol: Protocol, port: number, lifetimeSec: number, id?: string): Promise<{ id: string; lifetimeSec: number }>;
  remove(protocol: Protocol, port: number, id: string): Promise<void>;
}

export interface FindOptions {
  discoverMs?: number;
  /** Seams for tests: the SSDP search, the PCP server's port. */
  search?: typeof ssdpSearch;
  pcpPort?: number;
}

/** The first firewall service that answers, and what was tried (for `node status` when none did). */
export async function findPinholer(lan: Lan6, log: Logger, o: FindOptions = {}): Promise<{ opener?: PinholeOpener; tried: string[] }> {
  const tried: string[] = [];
  const location = await (o.search ?? ssdpSearch)(lan.address, o.discoverMs ?? 2000, lan.iface);
  if (!location) tried.push("UPnP IGD: no gateway answered the SSDP search over IPv6");
  else {
    try {
      const fw = await UpnpFirewall.at(location, lan.address);
      const status = await fw.status();
      if (!status.enabled) return { tried: [`UPnP IGD ${location}: its IPv6 firewall is off, nothing to open`] };
      if (status.inboundAllowed) return { opener: fw, tried };
      tried.push(`UPnP IGD ${location}: its IPv6 firewall allows no inbound pinholes`);
    } catch (e) {
      tried.push(`UPnP IGD ${location}: ${(e as Error).message}`);
    }
  }
  const pcp = new Pcp(lan.address, lan.gateway, o.pcpPort);
  try {
    await pcp.announce();
    return { opener: pcp, tried };
  } catch (e) {
    tried.push(`PCP at ${pcp.gateway}: ${(e as Error).message}`);
  }
  log.debug("no IPv6 firewall service on this network", { tried });
  return { tried };
}
