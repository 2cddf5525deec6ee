/**
 * A home router's port-mapping service, as the node uses it: UPnP IGD (upnp.ts) or NAT-PMP (natpmp.ts).
 * `findMapper` tries them in that order ("auto"): UPnP first, since most home routers speak it, then
 * NAT-PMP, which PCP servers answer too (RFC 6887 appendix A).
 */
import type { Logger } from "../log.ts";
import type { Lan } from "./lan.ts";
import { NatPmp } from "./natpmp.ts";
import { discoverUpnp } from "./upnp.ts";

export type Protocol = "udp" | "tcp";

export interface PortMapper {
  readonly via: "upnp" | "natpmp";
  /** The service asked: the IGD's description URL, or the NAT-PMP server's address. */
  readonly gateway: string;
  externalAddress(): Promise<string>;
  /** Maps `externalPort` (a wish: the router may give another) to the LAN address's `internalPort`. */
  map(protocol: Protocol, internalPort: number, externalPort: number, lifetimeSec: number): Promise<{ externalPort: number; lifetimeSec: number }>;
  unmap(protocol: Protocol, internalPort: number, externalPort: number): Promise<void>;
  close(): void;
}

/** The first mapping service that answers, and what was tried (for `node status` when none did). */
export async function findMapper(lan: Lan, log: Logger, o: { discoverMs?: number } = {}): Promise<{ mapper?: PortMapper; tried: string[] }> {
  const tried: string[] = [];
  try {
    const upnp = await discoverUpnp(lan.address, o.discoverMs ?? 2000);
    if (upnp) return { mapper: upnp, tried };
    tried.push("UPnP IGD: no gateway answered the SSDP search");
  } catch (e) {
    tried.push(`UPnP IGD: ${(e as Error).message}`);
  }
  const pmp = new NatPmp(lan.address, lan.gateway);
  try {
    await pmp.externalAddress();
    return { mapper: pmp, tried };
  } catch (e) {
    pmp.close();
    tried.push(`NAT-PMP/PCP at ${lan.gateway}: ${(e as Error).message}`);
  }
  log.debug("no port-mapping service on this network", { tried });
  return { tried };
}
