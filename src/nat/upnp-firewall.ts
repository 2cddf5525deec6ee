/**
 * The IPv6 firewall of a UPnP IGD v2 (WANIPv6FirewallControl:1): GetFirewallStatus, then AddPinhole
 * (any remote host and port to the node's address and port), UpdatePinhole by the UniqueID AddPinhole
 * answered, DeletePinhole. A router in secure mode (miniupnpd's default) opens a pinhole only for the
 * address that asks, and only over IPv6 (it compares the HTTP client's address with InternalClient: 606
 * otherwise), so the node finds the IGD by an SSDP search over IPv6, whose LOCATION names the router's
 * IPv6 address, and sends every action from its own address.
 */
import { IconError } from "../errors.ts";
import { IANA_PROTOCOL, type PinholeOpener } from "./pinhole-opener.ts";
import type { Protocol } from "./port-mapper.ts";
import { field, readServices, soapAction, type UpnpFault } from "./soap.ts";

export const FIREWALL_SERVICE = "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1";
/** UpdatePinhole's "no such entry": the router lost the pinhole (it restarted), so it is added anew. */
const NO_SUCH_ENTRY = "704";

export class UpnpFirewall implements PinholeOpener {
  readonly via = "upnp";

  private constructor(readonly gateway: string, private readonly control: string, readonly address: string) {}

  /** The firewall service of the IGD described at `location`, asked from `address`. */
  static async at(location: string, address: string): Promise<UpnpFirewall> {
    const control = (await readServices(location, address)).get(FIREWALL_SERVICE);
    if (!control) throw new IconError("UNSUPPORTED", `the gateway at ${location} offers no WANIPv6FirewallControl service`);
    return new UpnpFirewall(location, control, address);
  }

  /** Whether the firewall is on, and whether it lets control points open pinholes. */
  async status(): Promise<{ enabled: boolean; inboundAllowed: boolean }> {
    const body = await this.soap("GetFirewallStatus", {});
    return { enabled: field(body, "FirewallEnabled") === "1", inboundAllowed: field(body, "InboundPinholeAllowed") === "1" };
  }

  async open(protocol: Protocol, port: number, lifetimeSec: number, id?: string): Promise<{ id: string; lifetimeSec: number }> {
    if (id !== undefined) {
      try {
        await this.soap("UpdatePinhole", { UniqueID: id, NewLeaseTime: lifetimeSec });
        return { id, lifetimeSec };
      } catch (e) {
        if ((e as UpnpFault).upnpCode !== NO_SUCH_ENTRY) throw e;
      }
    }
    const body = await this.soap("AddPinhole", {
      RemoteHost: "", RemotePort: 0, InternalClient: this.address, InternalPort: port, Protocol: IANA_PROTOCOL[protocol], LeaseTime: lifetimeSec,
    });
    const unique = field(body, "UniqueID");
    if (!unique || !/^\d+$/.test(unique)) throw new IconError("FAILED", `the gateway at ${this.gateway} answered AddPinhole without a UniqueID`);
    return { id: unique, lifetimeSec };
  }

  async remove(_protocol: Protocol, _port: number, id: string): Promise<void> {
    await this.soap("DeletePinhole", { UniqueID: id });
  }

  private soap(action: string, args: Record<string, string | number>): Promise<string> {
    return soapAction(this.control, FIREWALL_SERVICE, action, args, this.address);
  }
}
