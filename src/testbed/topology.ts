/**
 * A testbed topology is data: hosts, routers and the links between them, each link with a one-way
 * delay, an optional rate and an optional loss probability. This file defines the JSON format
 * (README "Testbed") and checks it, so everything downstream can trust names, degrees and numbers.
 */
import { IconError } from "../errors.ts";
import { adjacency } from "./paths.ts";
import { blockSize, MAX_CLIENT_PREFIXES } from "./addressing.ts";

/** How a home host reaches the Internet (docs/testbed.md "Home networks"). */
export type NatKind = "upnp" | "cgnat" | "static";
export const NAT_KINDS: readonly NatKind[] = ["upnp", "cgnat", "static"];

/** An inclusive port range; a single port has first === last. */
export interface PortRange {
  first: number;
  last: number;
}

export interface HostSpec {
  name: string;
  /** Give this host's namespace to a long-lived container (default: hosts named IEP*). */
  docker?: boolean;
  /** Behind a home router that masquerades (absent: the host has its own routed address). */
  nat?: NatKind;
  /** `nat: "static"`: the ports forwarded to the host, UDP and TCP alike (default DEFAULT_FORWARD). */
  forward?: PortRange[];
  /**
   * With `nat` and IPv6: the home router drops unsolicited inbound IPv6 (firewall6.ts), as home routers
   * ship; absent, IPv6 reaches the host unfiltered.
   */
  firewall6?: boolean;
  /**
   * Extra /24s the host holds besides its own (addressing.ts clientBlock): a client that can come from
   * a network nobody has seen yet, as in `icon bench migrate --case first`. Not behind NAT.
   */
  clientPrefixes?: number;
}

export interface RouterSpec {
  name: string;
}

export interface LinkSpec {
  a: string;
  b: string;
  /** One-way delay in milliseconds, applied in each direction. */
  delayMs: number;
  /** Rate limit in Mbit/s in each direction (tbf); absent or null: unlimited. */
  rateMbit?: number | null;
  /** Probability 0..1 that a packet is dropped, in each direction. */
  loss?: number;
}

/** A testbed's network (named apart from the topology component's Topology, which learns a real one). */
export interface NetworkSpec {
  /** Where it came from: "thesis", "random:SEED" or a file path. */
  source: string;
  hosts: HostSpec[];
  routers: RouterSpec[];
  links: LinkSpec[];
  /** Every link dual stack, with global-looking IPv6 addresses (default: IPv4 only). */
  ipv6?: boolean;
  /** "per-router" (default; thesis 3.1.1: each router numbers its interfaces from its own /29) or "per-link". */
  numbering?: Numbering;
}

export type Numbering = "per-router" | "per-link";
const NUMBERINGS: readonly Numbering[] = ["per-router", "per-link"];

/**
 * What a statically forwarded home forwards unless the topology says otherwise: the node's default
 * DHT and peer ports and its default portRange for ICONs (src/config/schema.ts).
 */
export const DEFAULT_FORWARD: PortRange[] = [{ first: 4100, last: 4100 }, { first: 4101, last: 4101 }, { first: 20000, last: 20999 }];

/**
 * Node names become namespace names (NAME-node) and interface names inside peers (≤ 15 bytes), so
 * they are short and plain. "eth0" is reserved for a host's own interface.
 */
const NODE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,11}$/;
/** A router numbers all its interfaces from its own /29 (thesis 3.1.1), so at most 8 links. */
export const MAX_ROUTER_LINKS = 8;

const bad = (message: string) =>
  new IconError("INVALID_INPUT", `topology: ${message}`, 'Fix the topology file; README "Testbed" describes the format.');

function nameOf(v: unknown, what: string): { name: string } & Record<string, unknown> {
  if (typeof v === "string") return { name: v };
  if (v && typeof v === "object" && typeof (v as { name?: unknown }).name === "string") return v as { name: string };
  throw bad(`each ${what} must be a name or an object with a "name"`);
}

function hostOf(v: unknown): HostSpec {
  const o = nameOf(v, "host");
  const h: HostSpec = { name: o.name };
  if (o.docker !== undefined) {
    if (typeof o.docker !== "boolean") throw bad(`host "${o.name}": "docker" must be true or false`);
    h.docker = o.docker;
  }
  if (o.nat !== undefined) {
    if (!NAT_KINDS.includes(o.nat as NatKind)) throw bad(`host "${o.name}": "nat" must be one of ${NAT_KINDS.join(", ")}`);
    h.nat = o.nat as NatKind;
  }
  if (o.clientPrefixes !== undefined) {
    if (!Number.isInteger(o.clientPrefixes) || (o.clientPrefixes as number) < 1 || (o.clientPrefixes as number) > MAX_CLIENT_PREFIXES)
      throw bad(`host "${o.name}": "clientPrefixes" must be a whole number from 1 to ${MAX_CLIENT_PREFIXES}`);
    h.clientPrefixes = o.clientPrefixes as number;
  }
  if (o.forward !== undefined) {
    if (h.nat !== "static") throw bad(`host "${o.name}": "forward" needs "nat": "static"`);
    if (!Array.isArray(o.forward) || !o.forward.length) throw bad(`host "${o.name}": "forward" must be a non-empty array of ports or "FIRST-LAST" ranges`);
    h.forward = o.forward.map((p) => portRange(p, `host "${o.name}" forward`));
  }
  if (o.firewall6 !== undefined) {
    if (typeof o.firewall6 !== "boolean") throw bad(`host "${o.name}": "firewall6" must be true or false`);
    if (o.firewall6) h.firewall6 = true;
  }
  return h;
}

/** 4100 or "20000-20009" (a string "4100" too). */
function portRange(v: unknown, what: string): PortRange {
  const m = typeof v === "number" ? [String(v), String(v), String(v)] : typeof v === "string" ? v.match(/^(\d+)(?:-(\d+))?$/) : null;
  const first = Number(m?.[1]), last = Number(m?.[2] ?? m?.[1]);
  if (!m || !(first >= 1 && last <= 65535 && first <= last && Number.isInteger(first) && Number.isInteger(last)))
    throw bad(`${what}: ${JSON.stringify(v)} is not a port (1-65535) or a "FIRST-LAST" range`);
  return { first, last };
}

function num(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw bad(`${what} must be a number from ${min} to ${max}`);
  return v;
}

/** Checks and normalises parsed JSON into a NetworkSpec. */
export function parseTopology(json: unknown, source: string): NetworkSpec {
  if (!json || typeof json !== "object") throw bad("the file must hold a JSON object");
  const o = json as Record<string, unknown>;
  for (const key of ["hosts", "routers", "links"])
    if (!Array.isArray(o[key])) throw bad(`"${key}" must be an array`);
  const hosts = (o.hosts as unknown[]).map(hostOf);
  const routers = (o.routers as unknown[]).map((r) => ({ name: nameOf(r, "router").name }));
  const seen = new Set<string>();
  for (const n of [...hosts, ...routers]) {
    if (!NODE_NAME.test(n.name) || n.name === "eth0" || n.name === "lo")
      throw bad(`name "${n.name}" must be 1-12 letters, digits or _ starting with a letter (not eth0 or lo)`);
    if (seen.has(n.name)) throw bad(`name "${n.name}" is used twice`);
    seen.add(n.name);
  }
  if (hosts.length < 1) throw bad("needs at least one host");
  const links = (o.links as unknown[]).map((l, i): LinkSpec => {
    if (!l || typeof l !== "object") throw bad(`link ${i} must be an object`);
    const x = l as Record<string, unknown>;
    const a = String(x.a), b = String(x.b);
    for (const end of [a, b]) if (!seen.has(end)) throw bad(`link ${i} names unknown node "${end}"`);
    if (a === b) throw bad(`link ${i} connects "${a}" to itself`);
    const link: LinkSpec = { a, b, delayMs: num(x.delayMs, `link ${a}-${b} delayMs`, 0, 10_000) };
    if (x.rateMbit !== undefined && x.rateMbit !== null) link.rateMbit = num(x.rateMbit, `link ${a}-${b} rateMbit`, 0.01, 100_000);
    if (x.loss !== undefined) link.loss = num(x.loss, `link ${a}-${b} loss`, 0, 1);
    return link;
  });
  const t: NetworkSpec = { source, hosts, routers, links };
  if (o.ipv6 !== undefined) {
    if (typeof o.ipv6 !== "boolean") throw bad('"ipv6" must be true or false');
    if (o.ipv6) t.ipv6 = true;
  }
  if (o.numbering !== undefined) {
    if (!NUMBERINGS.includes(o.numbering as Numbering)) throw bad(`"numbering" must be one of ${NUMBERINGS.join(", ")}`);
    if (o.numbering !== "per-router") t.numbering = o.numbering as Numbering;
  }
  checkShape(t);
  return t;
}

/** Hosts hang off exactly one router; routers have ≤ 8 links; no parallel links; everything connected. */
export function checkShape(t: NetworkSpec): void {
  const isHost = new Set(t.hosts.map((h) => h.name));
  const degree = new Map<string, number>();
  const pairs = new Set<string>();
  for (const l of t.links) {
    if (isHost.has(l.a) && isHost.has(l.b)) throw bad(`link ${l.a}-${l.b} joins two hosts; put a router between them`);
    const key = [l.a, l.b].sort().join(" ");
    if (pairs.has(key)) throw bad(`two links join ${l.a} and ${l.b}`);
    pairs.add(key);
    for (const n of [l.a, l.b]) degree.set(n, (degree.get(n) ?? 0) + 1);
  }
  let blocks = 0;
  for (const h of t.hosts) {
    if (h.clientPrefixes && h.nat) throw bad(`host "${h.name}": "clientPrefixes" cannot be given to a host behind NAT`);
    // The firewall is the home router's: a host on its access router's link has none, nor an IPv4-only one.
    if (h.firewall6 && (!h.nat || !t.ipv6))
      throw new IconError("INVALID_INPUT", `topology: host "${h.name}": "firewall6" needs ${h.nat ? 'an IPv6 network ("ipv6": true)' : 'a home router ("nat")'}`,
        h.nat ? 'Add "ipv6": true to the topology (or pass --ipv6), or drop "firewall6".' : 'Give the host "nat": "upnp", "static" or "cgnat", or drop "firewall6".');
    blocks += blockSize(h.clientPrefixes ?? 0);
  }
  if (blocks > MAX_CLIENT_PREFIXES) throw bad(`the hosts' clientPrefixes need ${blocks} /24s; at most ${MAX_CLIENT_PREFIXES} exist`);
  for (const h of t.hosts)
    if (degree.get(h.name) !== 1) throw bad(`host "${h.name}" must have exactly one link (it has ${degree.get(h.name) ?? 0})`);
  for (const r of t.routers)
    if ((degree.get(r.name) ?? 0) > MAX_ROUTER_LINKS) throw bad(`router "${r.name}" has more than ${MAX_ROUTER_LINKS} links`);
  const names = new Set([...t.hosts, ...t.routers].map((n) => n.name));
  for (const h of t.hosts.filter((h) => h.nat))
    for (const made of natNodeNames(h))
      // Node names become interface names in their neighbours (at most 15 bytes).
      if (names.has(made) || made.length > 15) throw bad(`host "${h.name}" behind NAT needs a node "${made}": ${names.has(made) ? "rename the node of that name" : "shorten the host's name"}`);
  // Connected: walk from the first host.
  const adj = adjacency(t);
  const reached = new Set([t.hosts[0]!.name]);
  const todo = [t.hosts[0]!.name];
  while (todo.length) for (const { peer } of adj.get(todo.pop()!)!) if (!reached.has(peer)) (reached.add(peer), todo.push(peer));
  for (const n of [...t.hosts, ...t.routers]) if (!reached.has(n.name)) throw bad(`"${n.name}" is not connected to the rest`);
}

/** The nodes a NAT host's home is made of, by name: its home router, and for cgnat the carrier's NAT. */
export const gatewayName = (host: string) => `${host}_gw`;
export const carrierName = (host: string) => `${host}_cgn`;
export const natNodeNames = (h: HostSpec): string[] => (h.nat === "cgnat" ? [gatewayName(h.name), carrierName(h.name)] : h.nat ? [gatewayName(h.name)] : []);

export interface Variant {
  ipv6?: boolean;
  numbering?: Numbering;
  /** Hosts to put behind a home router: [host, kind]. */
  nat?: [string, NatKind][];
  /** Every NAT host's home router drops unsolicited inbound IPv6 (`up --firewall6`). */
  firewall6?: boolean;
}

/** Applies `up --ipv6 --numbering X --nat KIND@HOST --firewall6` to any topology (thesis, random or a file). */
export function withVariant(t: NetworkSpec, v: Variant): NetworkSpec {
  const out: NetworkSpec = { ...t, hosts: t.hosts.map((h) => ({ ...h })) };
  if (v.ipv6) out.ipv6 = true;
  if (v.numbering) {
    if (!NUMBERINGS.includes(v.numbering)) throw new IconError("USAGE", `--numbering ${v.numbering} is not one of ${NUMBERINGS.join(", ")}`, "Give --numbering per-router or per-link.");
    if (v.numbering === "per-link") out.numbering = "per-link";
    else delete out.numbering;
  }
  for (const [name, kind] of v.nat ?? []) {
    const h = out.hosts.find((x) => x.name === name);
    if (!h) throw new IconError("USAGE", `--nat ${kind}@${name}: no host "${name}" in the topology`, `Hosts: ${t.hosts.map((x) => x.name).join(", ")}.`);
    if (!NAT_KINDS.includes(kind)) throw new IconError("USAGE", `--nat ${kind}@${name}: "${kind}" is not one of ${NAT_KINDS.join(", ")}`, "Give --nat upnp@HOST, cgnat@HOST or static@HOST.");
    if (h.nat !== kind) delete h.forward;
    h.nat = kind;
  }
  if (v.firewall6) {
    const homes = out.hosts.filter((h) => h.nat);
    if (!homes.length) throw new IconError("USAGE", "--firewall6: no host is behind a home router", "Put one there with --nat upnp@HOST (or static@, cgnat@), or drop --firewall6.");
    if (!out.ipv6) throw new IconError("USAGE", "--firewall6 needs IPv6", "Add --ipv6 (or \"ipv6\": true in the topology file).");
    for (const h of homes) h.firewall6 = true;
  }
  checkShape(out);
  return out;
}

/** Sets the loss of every link (each direction), as `up --loss P` asks. */
export function withLoss(t: NetworkSpec, loss: number): NetworkSpec {
  if (!(loss >= 0 && loss <= 1)) throw new IconError("USAGE", `--loss ${loss} is not a probability`, "Give --loss a number from 0 to 1, e.g. 0.01.");
  return { ...t, links: t.links.map((l) => ({ ...l, loss })) };
}

/** Hosts whose namespace a container owns in --docker mode: IEP* by name, or "docker": true. */
export function wantsContainer(h: HostSpec): boolean {
  return h.docker ?? /^IEP/i.test(h.name);
}
