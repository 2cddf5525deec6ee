/**
 * The port mappings a node holds on its home router: made through a PortMapper, renewed at half their
 * lease (a lost renewal or two still leaves them alive), removed at stop. The node asks for the same
 * port outside as inside; the DHT and peer ports may take another one when the router says the port is
 * taken (UPnP 718, or NAT-PMP giving another), since announcements carry both ports; an ICON's port may
 * not, since its endpoint is its node's address and its own port.
 */
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
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

/** Lease asked for; renewed at half of it. */
export const LEASE_SEC = 3600;
/** A failed renewal is tried again this soon. */
const RETRY_MS = 30_000;
/** Other external ports tried for the DHT and peer ports when the router says theirs is taken. */
const OTHER_PORTS = 8;

const keyOf = (protocol: Protocol, port: number) => `${protocol}/${port}`;

export class PortMappings {
  private readonly held = new Map<string, Mapping & { timer?: TimerHandle }>();
  renewFailures = 0;

  constructor(private readonly mapper: PortMapper, private readonly clock: Clock, private readonly log: Logger, private readonly leaseSec = LEASE_SEC) {}

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
      const m: Mapping = { purpose, protocol, internalPort: port, externalPort: got.externalPort, via: this.mapper.via };
      this.keep(m, got.lifetimeSec);
      return m;
    }
  }

  private keep(m: Mapping, lifetimeSec: number): void {
    const k = keyOf(m.protocol, m.internalPort);
    this.clock.clearTimeout(this.held.get(k)?.timer);
    const held = { ...m, expiresAt: lifetimeSec ? this.clock.now() + lifetimeSec * 1000 : undefined } as Mapping & { timer?: TimerHandle };
    if (lifetimeSec) held.timer = this.clock.setTimeout(() => void this.renew(held), (lifetimeSec * 1000) / 2);
    this.held.set(k, held);
  }

  private async renew(m: Mapping & { timer?: TimerHandle }): Promise<void> {
    if (this.held.get(keyOf(m.protocol, m.internalPort)) !== m) return;
    try {
      const got = await this.mapper.map(m.protocol, m.internalPort, m.externalPort, this.leaseSec);
      this.keep({ ...m, externalPort: got.externalPort }, got.lifetimeSec);
    } catch (e) {
      this.renewFailures++;
      this.log.warn("could not renew a port mapping; trying again soon", { port: `${m.protocol}/${m.internalPort}`, error: (e as Error).message });
      m.timer = this.clock.setTimeout(() => void this.renew(m), RETRY_MS);
    }
  }

  /** The mapping of a port, if held. */
  get(protocol: Protocol, port: number): Mapping | undefined {
    const m = this.held.get(keyOf(protocol, port));
    return m && strip(m);
  }

  async remove(protocol: Protocol, port: number): Promise<void> {
    const m = this.held.get(keyOf(protocol, port));
    if (!m) return;
    this.held.delete(keyOf(protocol, port));
    this.clock.clearTimeout(m.timer);
    await this.mapper.unmap(protocol, port, m.externalPort).catch((e) => this.log.warn("could not remove a port mapping", { port: `${protocol}/${port}`, error: (e as Error).message }));
  }

  list(): Mapping[] {
    return [...this.held.values()].map(strip);
  }

  /** Removes every mapping (the node stops). */
  async close(): Promise<void> {
    await Promise.all([...this.held.values()].map((m) => this.remove(m.protocol, m.internalPort)));
    this.mapper.close();
  }
}

function strip({ timer: _, ...m }: Mapping & { timer?: TimerHandle }): Mapping {
  return m;
}
