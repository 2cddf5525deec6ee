/**
 * The DHT inside a running node: binds the UDP socket on --listen/--dht-port (a restarted node asked for
 * port 0 first tries the port it had, so its neighbours find it where they left it), resolves --bootstrap,
 * keeps its state in `<data-dir>/dht.json`, serves /v1/dht/* and reports its status. Components that start
 * after it reach the DHT through `component.dht`.
 */
import { lookup } from "node:dns/promises";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { IconError } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import type { Endpoint } from "./codec.ts";
import { Dht } from "./dht.ts";
import { loadState } from "./persistence.ts";
import { dhtRoutes } from "./routes.ts";
import { UdpTransport } from "./transport/udp.ts";
import { bindAddresses, hostPort, parseHostPort } from "../util/ipv6.ts";
import { familiesOf } from "./transport/types.ts";
import { toHex } from "../util/hex.ts";

export const STATE_FILE = "dht.json";

export class DhtComponent implements NodeComponent {
  readonly name = "dht";
  private instance?: Dht;

  constructor(private readonly deps: { config: Config; identity: Identity; log: Logger; client?: (family: 4 | 6) => boolean }) {}

  /** The running DHT; available once this component has started (before any later component starts). */
  get dht(): Dht {
    if (!this.instance) throw new IconError("INTERNAL", "the DHT is used before it started", "Start the DHT component before the components that use it.");
    return this.instance;
  }

  async start(): Promise<void> {
    const { config, identity, log } = this.deps;
    const statePath = join(config.dataDir, STATE_FILE);
    const transport = await this.bind(statePath);
    const bootstrap = await resolveAll(config.bootstrap, familiesOf(transport), log);
    this.instance = new Dht({ identity, transport, log, statePath, bootstrap, advertise: config.advertise || undefined, client: this.deps.client });
    await this.instance.start();
    log.info("DHT listening", { address: [transport.address, transport.address6].filter(Boolean).map((a) => hostPort(a!, transport.port)).join(" "), bootstrap: config.bootstrap.length });
  }

  private async bind(statePath: string): Promise<UdpTransport> {
    const { config, identity } = this.deps;
    const { address, address6 } = bindAddresses(config.listen, config.listen6);
    if (config.dhtPort === 0) {
      const previous = await loadState(statePath).catch(() => undefined);
      if (previous?.port && previous.nodeId === toHex(identity.nodeId)) {
        try {
          return await UdpTransport.open(address, previous.port, address6);
        } catch {
          // taken by now: any free port will do
        }
      }
    }
    return UdpTransport.open(address, config.dhtPort, address6);
  }

  async stop(): Promise<void> {
    await this.instance?.stop();
  }

  /** The address other nodes see this one at, once known (dht.ts advertisedAddress). */
  advertisedAddress(): string | undefined {
    return this.instance?.advertisedAddress();
  }

  /** The same for IPv6 (dht.ts advertisedAddress6). */
  advertisedAddress6(): string | undefined {
    return this.instance?.advertisedAddress6();
  }

  /** The UDP port the DHT is bound to; the configured one before it started. */
  get port(): number {
    return this.instance?.port ?? this.deps.config.dhtPort;
  }

  routes() {
    return dhtRoutes(() => this.dht);
  }

  status() {
    return this.dht.status();
  }
}

/** HOST:PORT (an IPv6 host in brackets) to endpoints of the families the node has; a name that does not resolve is reported and skipped. */
async function resolveAll(list: string[], families: { v4: boolean; v6: boolean }, log: Logger): Promise<Endpoint[]> {
  const out: Endpoint[] = [];
  for (const hp of list) {
    const literal = parseHostPort(hp);
    if (literal) {
      out.push(literal);
      continue;
    }
    const i = hp.lastIndexOf(":");
    const port = Number(hp.slice(i + 1));
    try {
      const found = await lookup(hp.slice(0, i), { all: true });
      const usable = found.filter((a) => (a.family === 6 ? families.v6 : families.v4));
      if (!usable.length) throw new Error(`no ${families.v6 ? (families.v4 ? "" : "IPv6 ") : "IPv4 "}address`);
      for (const a of usable) out.push({ address: a.address, port });
    } catch (e) {
      log.warn("cannot resolve a bootstrap host; skipping it", { bootstrap: hp, error: (e as Error).message });
    }
  }
  return out;
}
