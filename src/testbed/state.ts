/**
 * The state file /run/icon-testbed/NAME.json: written BEFORE anything is created and updated as `up`
 * goes, so `down` can remove a half-made testbed after a crash of anything. `status --json` is derived
 * from it and is the contract other code reads (README "Testbed").
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { IconError } from "../errors.ts";
import { STATE_DIR, statePath } from "./names.ts";
import { networkOf, type ClientBlock, type HomePlan, type IfacePlan, type Plan } from "./plan.ts";
import type { NatKind, Numbering } from "./topology.ts";

export interface TestbedState {
  version: 1;
  /** "creating" until `up` finished, then "up". */
  phase: "creating" | "up";
  docker: boolean;
  /** A Docker engine per container-owned host (`up --engines`); absent in older state files. */
  engines?: boolean;
  /** The `up` arguments that made it, to tell whether a second `up` is a no-op. */
  request: string;
  plan: Plan;
  delayPid?: number;
  /** PID of each host's dockerd, recorded the moment it is spawned (host name → PID). */
  enginePids?: Record<string, number>;
  /** PID of each upnp home router's miniupnpd, recorded the moment it is spawned (node name → PID). */
  upnpPids?: Record<string, number>;
  /** Prefixes with an `unreachable` route in the machine's own namespace while this testbed is up (guard.ts). */
  guards?: string[];
  createdAt: string;
}

export function readState(testbed: string): TestbedState | undefined {
  let text: string;
  try {
    text = readFileSync(statePath(testbed), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const s = JSON.parse(text) as TestbedState;
    if (s.version !== 1 || !s.plan) throw new Error("unknown layout");
    return s;
  } catch (e) {
    throw new IconError("FAILED", `testbed state ${statePath(testbed)} is unreadable: ${(e as Error).message}`,
      `Remove the file (rm ${statePath(testbed)}) and any leftover namespaces by hand (ip netns list).`);
  }
}

/** Atomic write (rename), so a crash never leaves half a state file. */
export function writeState(testbed: string, state: TestbedState): void {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  const path = statePath(testbed);
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 1));
  renameSync(`${path}.tmp`, path);
}

export function removeState(testbed: string): void {
  rmSync(statePath(testbed), { force: true });
}

/** Names of every testbed that has a state file. */
export function listTestbeds(): string[] {
  try {
    return readdirSync(STATE_DIR).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/** A host behind a home router (`"nat"` in the topology). */
export interface StatusNat {
  kind: NatKind;
  /** The home router node (a router in `routers`, role "gateway"), and for cgnat the carrier's NAT node. */
  gateway: string;
  carrier?: string;
  /** The host's own address (= the host's `address`) and its LAN. */
  lanAddress: string;
  lanPrefix: string;
  /** The home router's LAN address: the host's gateway, where UPnP IGD and NAT-PMP/PCP answer. */
  gatewayAddress: string;
  /** `ipv6`: its global IPv6 address on the LAN. */
  gatewayAddress6?: string;
  /** The home router's WAN address: public-looking, or in 100.64/10 behind CGNAT. */
  wanAddress: string;
  /** What other hosts see the host's traffic come from, and send to for a mapped or forwarded port. */
  publicAddress: string;
  /** static: the ports forwarded to the host, UDP and TCP alike ("4100", "20000-20999"). */
  forwarded?: string[];
  /** Whether the home router drops unsolicited inbound IPv6 (`"firewall6"`); without, IPv6 reaches the host unfiltered. */
  firewall6: boolean;
  /**
   * upnp: the IGD's description URL (`upnpc -u URL` skips discovery), NAT-PMP's address:port, whether
   * miniupnpd runs; with firewall6 also the IGD over IPv6 (`upnpc -6 -u IGD6 -A ...` opens a pinhole) and
   * PCP's [address]:port over IPv6.
   */
  upnp?: { igd: string; natpmp: string; igd6?: string; pcp6?: string; miniupnpd: "running" | "dead" };
}

export interface StatusHost {
  name: string; netns: string;
  /** The address on the host's own interface (a NAT host's LAN address). */
  address: string;
  /** `ipv6`: the host's global IPv6 address (homes route IPv6 without NAT). */
  address6?: string;
  /** Its extra client /24s (clientPrefixes): the block and how many, one address each (addressing.ts clientAddress). */
  clientBlock?: ClientBlock;
  nat?: StatusNat;
  container?: string;
  /** `--engines`: absolute path of the Unix socket of this host's own Docker engine. */
  dockerSocket?: string;
  /** `--engines`: whether that engine's daemon is alive. */
  dockerd?: "running" | "dead";
}
export interface StatusRouter {
  name: string; netns: string; addresses: string[];
  /** Its /29 with per-router numbering; absent for per-link numbering and for home routers and carriers. */
  block?: string;
  addresses6?: string[];
  /** A home router ("gateway") or carrier NAT ("carrier") of a NAT host. */
  role?: "gateway" | "carrier";
  host?: string;
}
export interface StatusLink {
  a: string; b: string; delayMs: number; rateMbit: number | null; loss: number;
  /** Address of each end on this link. */
  aAddress: string; bAddress: string;
  aAddress6?: string; bAddress6?: string;
  /** The link's own subnet, where it has one (per-link numbering, home LANs): "10.0.0.4/30". */
  prefix?: string;
}

/** The JSON of `icon testbed status --json`. */
export interface TestbedStatus {
  name: string;
  topology: string;
  phase: "creating" | "up";
  docker: boolean;
  /** A Docker engine per container-owned host (hosts[].dockerSocket). */
  engines: boolean;
  /** How interfaces are numbered (docs/testbed.md "Addressing"). */
  numbering: Numbering;
  ipv6: boolean;
  /** Prefixes guarded by an `unreachable` route in the machine's own namespace while this testbed is up. */
  guards: string[];
  hosts: StatusHost[];
  /** The topology's routers, then home routers and carriers. */
  routers: StatusRouter[];
  /** The links as made: a NAT host's link is split into its home's links. */
  links: StatusLink[];
  delayPid?: number;
  /** Whether the delay process is alive: when it is not, delayed links drop every packet (fail closed). */
  delayd: "running" | "dead" | "none";
}

/** The CIDR subnet an interface shares with its peer, if it has one. */
function subnetOf(i: IfacePlan): string | undefined {
  if (!i.prefixLen) return undefined;
  const n = i.address.split(".").reduce((a, b) => a * 256 + Number(b), 0);
  const base = n - (n % 2 ** (32 - i.prefixLen));
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join(".")}/${i.prefixLen}`;
}

const rangeText = (r: { first: number; last: number }) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`);

function natOf(h: HomePlan, upnpAlive: (node: string) => boolean): StatusNat {
  return {
    kind: h.kind, gateway: h.gateway, ...(h.carrier ? { carrier: h.carrier } : {}), lanAddress: h.lanAddress, lanPrefix: h.lanPrefix,
    gatewayAddress: h.gatewayAddress, ...(h.gatewayAddress6 ? { gatewayAddress6: h.gatewayAddress6 } : {}), wanAddress: h.wanAddress, publicAddress: h.publicAddress,
    ...(h.forward ? { forwarded: h.forward.map(rangeText) } : {}), firewall6: h.firewall6 === true,
    ...(h.upnp ? { upnp: { ...h.upnp, miniupnpd: upnpAlive(h.gateway) ? "running" as const : "dead" as const } } : {}),
  };
}

/**
 * `dockerdAlive(host)`: is that host's dockerd alive (only asked for hosts with an engine)?
 * `upnpAlive(node)`: is that home router's miniupnpd alive?
 */
export function statusOf(state: TestbedState, delaydAlive: boolean, dockerdAlive: (host: string) => boolean = () => true, upnpAlive: (node: string) => boolean = () => true): TestbedStatus {
  const { plan } = state;
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  const ifaceOn = (node: string, peer: string) => byName.get(node)!.ifaces.find((i) => i.peerNode === peer)!;
  const homes = new Map((plan.homes ?? []).map((h) => [h.host, h]));
  return {
    name: plan.testbed,
    topology: plan.topology.source,
    phase: state.phase,
    docker: state.docker,
    engines: state.engines === true,
    numbering: plan.numbering ?? "per-router",
    ipv6: plan.ipv6 === true,
    guards: state.guards ?? [],
    hosts: plan.nodes.filter((n) => n.kind === "host").map((n) => ({
      name: n.name, netns: n.netns, address: n.address, ...(n.address6 ? { address6: n.address6 } : {}), ...(n.clientBlock ? { clientBlock: n.clientBlock } : {}),
      ...(homes.has(n.name) ? { nat: natOf(homes.get(n.name)!, upnpAlive) } : {}),
      ...(n.container ? { container: n.container } : {}),
      ...(n.engine ? { dockerSocket: n.engine.socket, dockerd: dockerdAlive(n.name) ? "running" as const : "dead" as const } : {}),
    })),
    routers: plan.nodes.filter((n) => n.kind === "router").map((n) => ({
      name: n.name, netns: n.netns, addresses: n.ifaces.map((i) => i.address), ...(n.address ? { block: n.address } : {}),
      ...(plan.ipv6 ? { addresses6: n.ifaces.map((i) => i.address6!) } : {}),
      ...(n.nat ? { role: n.nat.role, host: n.nat.host } : {}),
    })),
    links: networkOf(plan).links.map((l) => {
      const a = ifaceOn(l.a, l.b), b = ifaceOn(l.b, l.a), prefix = subnetOf(a);
      return {
        a: l.a, b: l.b, delayMs: l.delayMs, rateMbit: l.rateMbit ?? null, loss: l.loss ?? 0, aAddress: a.address, bAddress: b.address,
        ...(a.address6 ? { aAddress6: a.address6, bAddress6: b.address6! } : {}), ...(prefix ? { prefix } : {}),
      };
    }),
    ...(state.delayPid ? { delayPid: state.delayPid } : {}),
    delayd: state.delayPid === undefined ? "none" : delaydAlive ? "running" : "dead",
  };
}
