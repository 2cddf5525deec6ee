/**
 * Reachability and port mapping as a part of a running node (issue 14). At start it maps the DHT and
 * peer ports on the home router (portMapping auto: UPnP IGD, then NAT-PMP/PCP), then asks peers in
 * distinct /24s to dial it back (dialback.ts) until a quorum agrees (reachability.ts), and again every
 * few minutes. It serves dial-backs to other nodes, maps each ICON's port while the ICON runs, and says
 * where the node may be announced:
 * - public or mapped: at the address and ports peers reached;
 * - unreachable: nowhere (it still uses the DHT and runs ICONs for itself), with the reason in status;
 * - unknown: a node that sees no NAT announces its own address as before; one that sees a NAT (a
 *   gateway answered, peers report another address, an advertised address not its own) waits for the
 *   verdict, so that nobody is sent to an address that does not reach it.
 * IPv6 has a verdict of its own, from dial-backs over IPv6 connections: homes route IPv6 without NAT, but
 * often behind a firewall, so with portMapping auto the node also opens pinholes for its IPv6 address in
 * the router's firewall (UPnP IGDv2 or PCP: pinhole-opener.ts), beside the mappings and before the first
 * dial-backs. What is announced from the two verdicts: announce-as.ts.
 */
import type { Config } from "../config/schema.ts";
import type { Dht } from "../dht/dht.ts";
import type { IconNetwork } from "../engine/icon-network.ts";
import { IconError } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import type { NodeComponent } from "../node/component.ts";
import type { PeerEndpoint, PeerNetwork } from "../peer/network.ts";
import type { AnnounceAs } from "../topology/dht-directory.ts";
import { realClock, type Clock, type TimerHandle } from "../util/clock.ts";
import { bindAddresses, familyOf, sybilNet } from "../util/ipv6.ts";
import { announceFrom } from "./announce-as.ts";
import { askDialback, DialbackVerifier, OP_DIALBACK } from "./dialback.ts";
import { IconPorts } from "./icon-ports.ts";
import { findLan, isOwnAddress } from "./lan.ts";
import { findLan6 } from "./lan6.ts";
import { PortMappings } from "./mappings.ts";
import { findPinholer } from "./pinhole-opener.ts";
import { Pinholes } from "./pinholes.ts";
import { findMapper } from "./port-mapper.ts";
import { Reachability, type Verdict } from "./reachability.ts";

/** Dial-back rounds: soon while the verdict is unknown, then to notice a change (a router rebooted). */
const UNKNOWN_ROUND_MS = 3_000;
const ROUND_MS = 5 * 60_000;
const CLIENT_RECHECK_MS = 1000;

export interface NatComponentInit {
  config: Config;
  identity: Identity;
  log: Logger;
  dht: () => Dht;
  network: () => PeerNetwork;
  /** Nodes that could dial this one back: announcing nodes it knows of (open connections are asked too). */
  candidates: () => PeerEndpoint[];
  /** Looks up more of them over the DHT (what candidates() returns next). */
  lookUpCandidates?: () => Promise<void>;
  /** Told after every dial-back round whether the node may announce itself (true: what was held goes out), or not. */
  onAnnounceable?: (yes: boolean) => void;
  isOwn?: (ip: string) => boolean;
  clock?: Clock;
}

interface MappingState {
  state: "pending" | "mapped" | "none";
  via?: string;
  gateway?: string;
  /** The address the router says it has outside. */
  routerAddress?: string;
  /** From start to the DHT and peer ports mapped (gateway discovery included). */
  ms?: number;
  tried: string[];
}

/** The pinholes' counterpart of MappingState (`firewall6` in status). */
interface PinholeState {
  state: "pending" | "open" | "none";
  via?: string;
  gateway?: string;
  /** The node's IPv6 address they open to. */
  address?: string;
  /** From start to the DHT and peer ports open (the search included). */
  ms?: number;
  tried: string[];
}

export class NatComponent implements NodeComponent {
  readonly name = "nat";
  private readonly clock: Clock;
  private readonly isOwn: (ip: string) => boolean;
  private reach!: Reachability;
  private reach6!: Reachability;
  private verifier?: DialbackVerifier;
  private mappings?: PortMappings;
  private pinholes?: Pinholes;
  private readonly iconPorts: IconPorts;
  private readonly iconPinholes: IconPorts;
  /** Mapping and pinholing at start: dial-backs wait for both. */
  private opened: Promise<void> = Promise.resolve();
  private readonly mapping: MappingState = { state: "pending", tried: [] };
  private readonly pinhole: PinholeState = { state: "pending", tried: [] };
  private timer?: TimerHandle;
  private stopped = false;
  private lastVerdict?: string;
  private client = { v4: false, v6: false, at: -Infinity };

  constructor(private readonly init: NatComponentInit) {
    this.clock = init.clock ?? realClock;
    this.isOwn = init.isOwn ?? isOwnAddress;
    this.iconPorts = new IconPorts(init.log);
    this.iconPinholes = new IconPorts(init.log, "open a pinhole for");
  }

  async start(): Promise<void> {
    const { config, identity, network } = this.init;
    if (config.portMapping === "static" && (config.dhtPort === 0 || config.peerPort === 0))
      throw new IconError("CONFIG", "portMapping static needs fixed ports: dhtPort and peerPort may not be 0", "Set --dht-port and --peer-port to the ports the router forwards.");
    this.reach = new Reachability(config.reachabilityQuorum, this.clock, this.isOwn);
    this.reach6 = new Reachability(config.reachabilityQuorum, this.clock, this.isOwn, 6);
    const { address6 } = bindAddresses(config.listen, config.listen6);
    this.verifier = new DialbackVerifier({ identity, network: network(), bind: (f) => (f === 6 ? (address6 ?? "::") : config.listen), clock: this.clock });
    network().handle(OP_DIALBACK, this.verifier.handle);
    const failed = (s: MappingState | PinholeState) => (e: unknown) => {
      s.state = "none";
      s.tried.push((e as Error).message);
    };
    this.opened = Promise.all([this.mapPorts().catch(failed(this.mapping)), this.openPinholes().catch(failed(this.pinhole))]).then(() => {});
    void this.opened.then(() => this.round());
  }

  private async mapPorts(): Promise<void> {
    const { config, log } = this.init;
    if (config.portMapping !== "auto") {
      this.mapping.state = "none";
      this.mapping.tried.push(config.portMapping === "static" ? "static: the operator forwards the ports" : "portMapping is off");
      return;
    }
    const lan = findLan(config.listen);
    if (!lan) {
      this.mapping.state = "none";
      this.mapping.tried.push("no default route from the listen address: nothing to map");
      return;
    }
    const started = this.clock.now();
    const { mapper, tried } = await findMapper(lan, log);
    this.mapping.tried.push(...tried);
    if (!mapper || this.stopped) {
      this.mapping.state = "none";
      return mapper?.close();
    }
    Object.assign(this.mapping, { via: mapper.via, gateway: mapper.gateway });
    this.mappings = new PortMappings(mapper, this.clock, log);
    const { dht, peer } = this.ownPorts();
    try {
      await this.mappings.add("dht", "udp", dht);
      await this.mappings.add("peer", "tcp", peer);
      await this.iconPorts.found(this.mappings);
      this.mapping.routerAddress = await mapper.externalAddress().catch(() => undefined);
      Object.assign(this.mapping, { state: "mapped", ms: Math.round(this.clock.now() - started) });
      log.info("mapped the DHT and peer ports on the home router", { via: mapper.via, gateway: mapper.gateway, outside: this.mapping.routerAddress, ms: this.mapping.ms });
    } catch (e) {
      this.mapping.state = "none";
      this.mapping.tried.push((e as Error).message);
      log.warn("could not map the node's ports on the home router", { error: (e as Error).message, fix: (e as IconError).fix });
    }
  }

  /**
   * Pinholes for the node's IPv6 address: only with portMapping auto and an IPv6 address of its own, and
   * where a service answers. Beside mapPorts, not after it: the IPv4 search may take 5.8 s to give up.
   */
  private async openPinholes(): Promise<void> {
    const { config, log } = this.init;
    const s = this.pinhole;
    const { lan, why } = config.portMapping !== "auto" ? { why: config.portMapping === "static" ? "static: the operator opens the router's IPv6 firewall" : "portMapping is off" }
      : !this.init.dht().families.v6 ? { why: "the node has no IPv6 (listen6 off, or an IPv4 listen address)" }
      : findLan6(config.listen6);
    if (!lan) {
      s.state = "none";
      s.tried.push(why!);
      return;
    }
    const started = this.clock.now();
    const { opener, tried } = await findPinholer(lan, log);
    s.tried.push(...tried);
    if (!opener || this.stopped) {
      s.state = "none";
      return;
    }
    Object.assign(s, { via: opener.via, gateway: opener.gateway, address: opener.address });
    this.pinholes = new Pinholes(opener, this.clock, log);
    const { dht, peer } = this.ownPorts();
    try {
      await this.pinholes.add("dht", "udp", dht);
      await this.pinholes.add("peer", "tcp", peer);
      await this.iconPinholes.found(this.pinholes);
      Object.assign(s, { state: "open", ms: Math.round(this.clock.now() - started) });
      log.info("opened the DHT and peer ports in the home router's IPv6 firewall", { via: opener.via, gateway: opener.gateway, address: opener.address, ms: s.ms });
    } catch (e) {
      s.state = "none";
      s.tried.push((e as Error).message);
      log.warn("could not open the node's ports in the home router's IPv6 firewall", { error: (e as Error).message, fix: (e as IconError).fix });
    }
  }

  private ownPorts(): { dht: number; peer: number } {
    return { dht: this.init.dht().port, peer: this.init.network().port };
  }

  /** The ports other nodes dial: the mapped ones outside, else the bound ones. */
  ports(): { dhtPort: number; peerPort: number } {
    const { dht, peer } = this.ownPorts();
    return { dhtPort: this.mappings?.get("udp", dht)?.externalPort ?? dht, peerPort: this.mappings?.get("tcp", peer)?.externalPort ?? peer };
  }

  /**
   * One round: peers in distinct networks (not this node's) dial back, per family: over IPv4 connections
   * for the IPv4 verdict, over IPv6 ones (when the node has IPv6) for the IPv6 verdict; then the next round
   * is scheduled.
   */
  private async round(): Promise<void> {
    if (this.stopped) return;
    const network = this.init.network();
    const v4 = this.reach.verdict().address, v6 = this.reach6.verdict().address;
    const own = new Set([this.init.config.listen, this.init.config.advertise, v4, v6, ...this.init.dht().observedAddresses()].filter(Boolean).map((a) => sybilNet(a!)));
    const asked = { 4: new Set<string>(), 6: new Set<string>() };
    const want = this.reach.quorum + 1;
    const ports = this.ports();
    const open = network.connections().map((c) => ({ nodeId: c.nodeId, address: c.remoteIp, conn: c }));
    // While it waits behind a NAT for its verdict the node is a DHT client: no peer keeps it in its routing
    // table, stores announcements on it or connects to it, so what it knows may name nobody to ask. The
    // nodes announced under the routers it traced are found by looking them up (topology/component.ts).
    if (this.held()) await this.init.lookUpCandidates?.().catch((e) => this.init.log.debug("looking up dial-back candidates failed", { error: (e as Error).message }));
    for (const c of [...open, ...this.init.candidates()]) {
      if (this.stopped) break;
      const family = familyOf(c.address) === 6 ? 6 : 4;
      if (family === 6 && !this.init.dht().families.v6) continue;
      const net = sybilNet(c.address);
      if (asked[family].size >= want || own.has(net) || asked[family].has(net) || c.nodeId === network.nodeId) continue;
      asked[family].add(net);
      try {
        // A verifier dials back the family it is asked over: reach it over this one.
        const conn = "conn" in c ? c.conn : await network.connect(c, { sameFamily: true });
        const report = await askDialback(conn, ports);
        if (report) (familyOf(report.observed) === 6 ? this.reach6 : this.reach).report(conn.remoteIp, report);
      } catch (e) {
        this.init.log.debug("a dial-back candidate could not be reached", { peer: c.nodeId.slice(0, 8), error: (e as Error).message });
      }
    }
    this.changed();
    const unknown = this.reach.verdict().reach === "unknown";
    if (!this.stopped) this.timer = this.clock.setTimeout(() => void this.round(), unknown ? UNKNOWN_ROUND_MS : ROUND_MS);
  }

  private changed(): void {
    const v = this.reach.verdict(), v6 = this.reach6.verdict();
    const key = `${v.reach} ${v.address ?? ""} ${v6.reach} ${v6.address ?? ""}`;
    if (key !== this.lastVerdict) {
      this.lastVerdict = key;
      if (v.reach !== "unknown" || v6.reach !== "unknown")
        this.init.log.info("reachability", { ipv4: v.reach, address: v.address, ipv6: v6.reach, address6: v6.address, reason: v.reason });
    }
    // Every round, not only on a change: announcements made while no round had seen the NAT yet were held.
    this.init.onAnnounceable?.(!this.held());
  }

  /**
   * Where others reach this node: the address peers reached it at, once a quorum agrees; until then the
   * address its home router says it has outside (so a replica started right after a restart names it).
   * Announcements wait for the verdict all the same (announceAs).
   */
  externalAddress(): string | undefined {
    return this.reach?.verdict().address ?? this.mapping.routerAddress;
  }

  /** Where others reach this node over IPv6, once a quorum agrees. */
  externalAddress6(): string | undefined {
    return this.reach6?.verdict().address;
  }

  /** Whether anything says this node sits behind a NAT. */
  private behindNat(): string | undefined {
    const { config } = this.init;
    if (this.mapping.state === "mapped") return `its ports are mapped on the home router (${this.mapping.via})`;
    if (config.advertise && !this.isOwn(config.advertise)) return `its advertised address ${config.advertise} is not its own`;
    const seen = [...this.init.dht().observedAddresses(), ...this.reach.voters().map((v) => v.observed)].find((a) => familyOf(a) === 4 && !this.isOwn(a));
    return seen ? `peers see it at ${seen}, not an address of its own` : undefined;
  }

  /** Where the node is announced (topology/dht-directory.ts). */
  announceAs(): AnnounceAs {
    if (!this.reach) return undefined;
    return announceFrom({ v4: this.reach.verdict(), v6: this.reach6.verdict(), own6: this.init.dht().advertisedAddress6(), behindNat: () => this.behindNat(), ports: this.ports() });
  }

  /** Whether the node may not announce itself now (announceAs says where it is held, and why). */
  private held(): boolean {
    const as = this.announceAs();
    return !!as && "held" in as;
  }

  /**
   * Whether the DHT runs as a client over a family (dht/codec.ts Flag.CLIENT): while the node is announced
   * nowhere (unreachable, or behind a NAT until peers have dialled it back), other nodes answer it but keep
   * it out of their routing tables, as libp2p's kad-dht does with nodes AutoNAT finds private. Over IPv6
   * it is a client when IPv6 dial-backs failed, or, before any verdict, when it is one over IPv4. Asked
   * for every DHT request, so it is worked out at most once a second (isOwn reads the interfaces).
   */
  dhtClient(family: 4 | 6 = 4): boolean {
    const now = this.clock.now();
    if (this.reach && now - this.client.at >= CLIENT_RECHECK_MS) {
      const as = this.announceAs();
      const v4 = !!as && ("held" in as || familyOf(as.address) === 6);
      const r6 = this.reach6.verdict().reach;
      this.client = { v4, v6: r6 === "unreachable" || (r6 === "unknown" && v4), at: now };
    }
    return family === 6 ? this.client.v6 : this.client.v4;
  }

  /** ICONs' networking with their ports mapped, and let through the IPv6 firewall, on the home router while they run (portMapping auto; icon-ports.ts). */
  iconNetwork(inner: IconNetwork): IconNetwork {
    return {
      get egress() {
        return inner.egress;
      },
      spec: (port, icon) => inner.spec(port, icon),
      check: (icon) => inner.check(icon),
      prepare: inner.prepare?.bind(inner),
      remove: inner.remove?.bind(inner),
      attach: async (containerId, port, icon) => {
        const facts = await inner.attach(containerId, port, icon);
        const done: IconPorts[] = [];
        try {
          for (const ports of [this.iconPorts, this.iconPinholes]) {
            await ports.attach(port);
            done.push(ports);
          }
        } catch (e) {
          for (const ports of done) await ports.detach(port);
          await inner.detach(port);
          throw e;
        }
        return facts;
      },
      detach: async (port) => {
        await inner.detach(port);
        await Promise.all([this.iconPorts.detach(port), this.iconPinholes.detach(port)]);
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await this.opened;
    await Promise.all([this.mappings?.close(), this.pinholes?.close()]);
  }

  /** `reachability` in `icon node status`. */
  status() {
    const v: Verdict = this.reach?.verdict() ?? { reach: "unknown", reason: "not started" };
    const v6: Verdict = this.reach6?.verdict() ?? { reach: "unknown", reason: "not started" };
    const as = this.announceAs();
    const { config } = this.init;
    const expiry = <T extends { expiresAt?: number }>({ expiresAt, ...x }: T): Omit<T, "expiresAt"> & { expiresInSec?: number } =>
      expiresAt ? { ...x, expiresInSec: Math.round((expiresAt - this.clock.now()) / 1000) } : x;
    const mappings = (this.mappings?.list() ?? []).map(expiry);
    if (config.portMapping === "static") {
      const { dht, peer } = this.ownPorts();
      mappings.push({ purpose: "dht", protocol: "udp", internalPort: dht, externalPort: dht, via: "static" }, { purpose: "peer", protocol: "tcp", internalPort: peer, externalPort: peer, via: "static" });
    }
    return {
      ipv4: v.reach,
      ipv6: v6.reach,
      /** Endpoints peers verified, as announced. */
      external: [v.address, v6.address].filter((a) => a !== undefined).map((address) => ({ address, ...this.ports() })),
      mappings,
      ...(as && "held" in as ? { reason: `announces nothing: ${as.held}` } : v.reason && v.reach !== "unknown" ? { reason: v.reason } : {}),
      ...(v6.reason && v6.reach === "unreachable" ? { reason6: v6.reason } : {}),
      announced: as && "held" in as ? false : true,
      portMapping: { mode: config.portMapping, ...this.mapping, ...(this.mappings ? { renewFailures: this.mappings.renewFailures } : {}) },
      /** The IPv6 firewall's pinholes (the router knows each by its id; status leaves it out). */
      pinholes: (this.pinholes?.list() ?? []).map(({ id: _, ...p }) => expiry(p)),
      firewall6: { ...this.pinhole, ...(this.pinholes ? { renewFailures: this.pinholes.renewFailures } : {}) },
      quorum: this.reach?.quorum ?? config.reachabilityQuorum,
      verifiers: [...(this.reach?.voters() ?? []), ...(this.reach6?.voters() ?? [])].map((x) => ({ network: networkOf(x.voter), observed: x.observed, dht: x.dht, peer: x.peer, agoSec: Math.round((this.clock.now() - x.at) / 1000) })),
      dialbacks: { served: this.verifier?.served ?? 0, refused: this.verifier?.refused ?? 0 },
    };
  }
}

/** A verifier's network as status shows it: "192.0.2.0/24", "2d00:1c0:7::/48". */
function networkOf(voter: string): string {
  return familyOf(voter) === 6 ? sybilNet(voter) : `${sybilNet(voter)}.0/24`;
}
