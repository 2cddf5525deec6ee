/**
 * A UPnP Internet Gateway Device client (UPnP IGD v1 and v2, WANIPConnection / WANPPPConnection):
 * an SSDP M-SEARCH on the LAN (multicast, TTL 1: it never leaves the home), the device description from
 * the LOCATION it answers with, then SOAP actions on its connection service (soap.ts):
 * GetExternalIPAddress, AddPortMapping, DeletePortMapping. AddPortMapping exists in both versions (v2's
 * AddAnyPortMapping does not in v1), so the node asks for a port and, refused (718: taken), tries the
 * next ones itself. The search runs over IPv6 too (ff02::c), for the IGD's IPv6 firewall (upnp-firewall.ts).
 */
import { createSocket } from "node:dgram";
import { IconError } from "../errors.ts";
import { familyOf } from "../util/ipv6.ts";
import type { PortMapper, Protocol } from "./port-mapper.ts";
import { field, readServices, soapAction, type UpnpFault } from "./soap.ts";

const SSDP = { address: "239.255.255.250", address6: "ff02::c", port: 1900 };
const SEARCH_TARGETS = ["urn:schemas-upnp-org:device:InternetGatewayDevice:1", "urn:schemas-upnp-org:device:InternetGatewayDevice:2"];
/** Connection services in the order they are preferred. */
const SERVICES = ["urn:schemas-upnp-org:service:WANIPConnection:2", "urn:schemas-upnp-org:service:WANIPConnection:1", "urn:schemas-upnp-org:service:WANPPPConnection:1"];
const CONFLICT = "718";
const ONLY_PERMANENT = "725";

/**
 * The LOCATION of the first IGD that answers an SSDP search from `local` within `waitMs`. From an IPv6
 * address the search goes to the link-local group on `iface` (UPnP Device Architecture 2.0, 1.3.2).
 */
export function ssdpSearch(local: string, waitMs: number, iface?: string): Promise<string | undefined> {
  const six = familyOf(local) === 6;
  return new Promise((resolve) => {
    const sock = createSocket(six ? "udp6" : "udp4");
    const done = (location?: string) => {
      clearTimeout(timer);
      try {
        sock.close();
      } catch {}
      resolve(location);
    };
    const timer = setTimeout(() => done(), waitMs);
    sock.on("error", () => done());
    sock.on("message", (msg) => {
      const location = /^location:\s*(\S+)/im.exec(msg.toString("latin1"))?.[1];
      if (location?.startsWith("http://")) done(location);
    });
    sock.bind(0, local, () => {
      sock.setMulticastTTL(1);
      sock.setMulticastInterface(six ? `::%${iface}` : local);
      const host = six ? `[${SSDP.address6.toUpperCase()}]` : SSDP.address;
      for (const st of SEARCH_TARGETS) {
        const m = `M-SEARCH * HTTP/1.1\r\nHOST: ${host}:${SSDP.port}\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ${st}\r\n\r\n`;
        sock.send(m, SSDP.port, six ? `${SSDP.address6}%${iface}` : SSDP.address);
      }
    });
  });
}

/** The IGD on this LAN, or undefined when none answered. */
export async function discoverUpnp(local: string, waitMs: number): Promise<UpnpGateway | undefined> {
  const location = await ssdpSearch(local, waitMs);
  return location ? UpnpGateway.open(location, local) : undefined;
}

export class UpnpGateway implements PortMapper {
  readonly via = "upnp";

  private constructor(readonly gateway: string, private readonly control: string, private readonly service: string, private readonly local: string) {}

  /** Reads the device description and picks its connection service. */
  static async open(location: string, local: string): Promise<UpnpGateway> {
    const found = await readServices(location, local);
    const service = SERVICES.find((s) => found.has(s));
    if (!service) throw new IconError("UNSUPPORTED", `the gateway at ${location} offers no WANIPConnection or WANPPPConnection service`);
    return new UpnpGateway(location, found.get(service)!, service, local);
  }

  async externalAddress(): Promise<string> {
    const ip = field(await this.soap("GetExternalIPAddress", {}), "NewExternalIPAddress");
    if (!ip) throw new IconError("FAILED", `the gateway at ${this.gateway} did not say its external address`);
    return ip;
  }

  async map(protocol: Protocol, internalPort: number, externalPort: number, lifetimeSec: number) {
    const add = (lease: number) =>
      this.soap("AddPortMapping", {
        NewRemoteHost: "", NewExternalPort: externalPort, NewProtocol: protocol.toUpperCase(), NewInternalPort: internalPort,
        NewInternalClient: this.local, NewEnabled: 1, NewPortMappingDescription: `icon ${protocol} ${internalPort}`, NewLeaseDuration: lease,
      });
    try {
      await add(lifetimeSec);
      return { externalPort, lifetimeSec };
    } catch (e) {
      // IGD v1 routers may take only permanent leases: the node then removes them itself at stop.
      if ((e as UpnpFault).upnpCode !== ONLY_PERMANENT) throw e;
      await add(0);
      return { externalPort, lifetimeSec: 0 };
    }
  }

  async unmap(protocol: Protocol, _internalPort: number, externalPort: number): Promise<void> {
    await this.soap("DeletePortMapping", { NewRemoteHost: "", NewExternalPort: externalPort, NewProtocol: protocol.toUpperCase() });
  }

  close(): void {}

  /** Whether an error is the router's "that external port is taken". */
  static taken(e: unknown): boolean {
    return (e as UpnpFault)?.upnpCode === CONFLICT;
  }

  private soap(action: string, args: Record<string, string | number>): Promise<string> {
    return soapAction(this.control, this.service, action, args, this.local);
  }
}
