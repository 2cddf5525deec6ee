/**
 * The pinholes a node holds in its home router's IPv6 firewall: opened through a PinholeOpener, kept
 * under a lease like the IPv4 mappings (leases.ts: renewed at half, closed at stop). A pinhole has no
 * port of its own outside: IPv6 is routed, so it opens the node's address and port as they are.
 */
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "../util/clock.ts";
import { LEASE_SEC, Leases } from "./leases.ts";
import { keyOf, type Purpose } from "./mappings.ts";
import type { PinholeOpener } from "./pinhole-opener.ts";
import type { Protocol } from "./port-mapper.ts";

export interface Pinhole {
  purpose: Purpose;
  protocol: Protocol;
  port: number;
  /** The node's IPv6 address it opens to. */
  address: string;
  via: "upnp" | "pcp";
  /** What the router knows it by: UPnP's UniqueID, PCP's nonce (hex). */
  id: string;
  expiresAt?: number;
}

export class Pinholes {
  private readonly leases: Leases<Pinhole>;

  constructor(private readonly opener: PinholeOpener, clock: Clock, log: Logger, private readonly leaseSec = LEASE_SEC) {
    this.leases = new Leases<Pinhole>({
      what: "pinhole",
      renew: async (p) => {
        const got = await opener.open(p.protocol, p.port, leaseSec, p.id);
        return { entry: { ...p, id: got.id }, lifetimeSec: got.lifetimeSec };
      },
      release: (p) => opener.remove(p.protocol, p.port, p.id),
    }, clock, log);
  }

  get renewFailures(): number {
    return this.leases.renewFailures;
  }

  async add(purpose: Purpose, protocol: Protocol, port: number): Promise<Pinhole> {
    const { via, gateway, address } = this.opener;
    let got: { id: string; lifetimeSec: number };
    try {
      got = await this.opener.open(protocol, port, this.leaseSec);
    } catch (e) {
      throw new IconError("UNREACHABLE", `could not open ${protocol.toUpperCase()} port ${port} in the home router's IPv6 firewall (${via} ${gateway}): ${(e as Error).message}`,
        `Open ${protocol.toUpperCase()} port ${port} for ${address} in the router's IPv6 firewall by hand (and set portMapping to static), or free the router's pinhole table.`);
    }
    return this.leases.keep(keyOf(protocol, port), { purpose, protocol, port, address, via, id: got.id }, got.lifetimeSec);
  }

  remove(protocol: Protocol, port: number): Promise<void> {
    return this.leases.remove(keyOf(protocol, port));
  }

  list(): Pinhole[] {
    return this.leases.list();
  }

  /** Closes every pinhole (the node stops). */
  close(): Promise<void> {
    return this.leases.close();
  }
}
