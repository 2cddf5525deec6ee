/**
 * The port mappings a node holds on its home router: made through a PortMapper, kept under a lease
 * (leases.ts: renewed at half, removed at stop). The node asks for the same port outside as inside; the
 * DHT and peer ports may take another one when the router says the port is taken (UPnP 718, or NAT-PMP
 * giving another), since announcements carry both ports; an ICON's port may not, since its endpoint is
 * its node's address and its own port.
 */
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "../util/clock.ts";
import { LEASE_SEC, Leases } from "./leases.ts";
import type { PortMapper, Protocol } from "./port-mapper.ts";
import { UpnpGateway } from "./upnp.ts";

export type Purpose = "dht" | "peer" | "icon";

export interface Mapping {
  purpose: Purpose;
  protocol: Protocol;
  internalPort: number;
  externalPort: number;
  via: "upnp" | "natpmp" | "static";
  /** Unix ms; absent for a permanent lease or a static forward. */
  expiresAt?: number;
}

/** Other external ports tried for the DHT and peer ports when the router says theirs is taken. */
const OTHER_PORTS = 8;

export const keyOf = (protocol: Protocol, port: number) => `${protocol}/${port}`;

export class PortMappings {
  private readonly leases: Leases<Mapping>;

  constructor(private readonly mapper: PortMapper, clock: Clock, log: Logger, private readonly leaseSec = LEASE_SEC) {
    this.leases = new Leases<Mapping>({
      what: "port mapping",
      renew: async (m) => {
        const got = await mapper.map(m.protocol, m.internalPort, m.externalPort, leaseSec);
        return { entry: { ...m, externalPort: got.externalPort }, lifetimeSec: got.lifetimeSec };
      },
      release: (m) => mapper.unmap(m.protocol, m.internalPort, m.externalPort),
    }, clock, log);
  }

  get renewFailures(): number {
    return this.leases.renewFailures;
  }

  /** Maps `port` (same port outside unless the router gives another and `purpose` allows it). */
  async add(purpose: Purpose, protocol: Protocol, port: number): Promise<Mapping> {
    const tries = purpose === "icon" ? 1 : OTHER_PORTS + 1;
    for (let i = 0; ; i++) {
      let got: { externalPort: number; lifetimeSec: number };
      try {
        got = await this.mapper.map(protocol, port, port + i, this.leaseSec);
      } catch (e) {
        if (UpnpGateway.taken(e) && i + 1 < tries && port + i < 65535) continue;
        throw new IconError("UNREACHABLE", `could not map ${protocol.toUpperCase()} port ${port} on the home router (${this.mapper.via} ${this.mapper.gateway}): ${(e as Error).message}`,
          "Free that port on the router (another device may hold it), forward it by hand and set portMapping to static, or choose another port.");
      }
      if (purpose === "icon" && got.externalPort !== port) {
        await this.mapper.unmap(protocol, port, got.externalPort).catch(() => {});
        throw new IconError("UNREACHABLE", `the home router gave outside port ${got.externalPort} for ICON port ${port}; an ICON needs the same port outside`,
          "Free that port on the router, or choose another portRange.");
      }
      return this.leases.keep(keyOf(protocol, port), { purpose, protocol, internalPort: port, externalPort: got.externalPort, via: this.mapper.via }, got.lifetimeSec);
    }
  }

  /** The mapping of a port, if held. */
  get(protocol: Protocol, port: number): Mapping | undefined {
    return this.leases.get(keyOf(protocol, port));
  }

  remove(protocol: Protocol, port: number): Promise<void> {
    return this.leases.remove(keyOf(protocol, port));
  }

  list(): Mapping[] {
    return this.leases.list();
  }

  /** Removes every mapping (the node stops). */
  async close(): Promise<void> {
    await this.leases.close();
    this.mapper.close();
  }
}
