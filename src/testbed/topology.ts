/**
 * A testbed topology is data: hosts, routers and the links between them, each link with a one-way
 * delay, an optional rate and an optional loss probability. This file defines the JSON format
 * (README "Testbed") and checks it, so everything downstream can trust names, degrees and numbers.
 */
import { IconError } from "../errors.ts";
import { adjacency } from "./paths.ts";

export interface HostSpec {
  name: string;
  /** Give this host's namespace to a long-lived container (default: hosts named IEP*). */
  docker?: boolean;
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
}

/**
 * Node names become namespace names (NAME-node) and interface names inside peers (≤ 15 bytes), so
 * they are short and plain. "eth0" is reserved for a host's own interface.
 */
const NODE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,11}$/;
/** A router numbers all its interfaces from its own /29 (thesis 3.1.1), so at most 8 links. */
export const MAX_ROUTER_LINKS = 8;

const bad = (message: string) =>
  new IconError("INVALID_INPUT", `topology: ${message}`, 'Fix the topology file; README "Testbed" describes the format.');

function nameOf(v: unknown, what: string): { name: string; docker?: boolean } {
  if (typeof v === "string") return { name: v };
  if (v && typeof v === "object" && typeof (v as { name?: unknown }).name === "string") {
    const o = v as { name: string; docker?: unknown };
    if (o.docker !== undefined && typeof o.docker !== "boolean") throw bad(`${what} "${o.name}": "docker" must be true or false`);
    return o.docker === undefined ? { name: o.name } : { name: o.name, docker: o.docker };
  }
  throw bad(`each ${what} must be a name or an object with a "name"`);
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
  const hosts = (o.hosts as unknown[]).map((h) => nameOf(h, "host"));
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
  for (const h of t.hosts)
    if (degree.get(h.name) !== 1) throw bad(`host "${h.name}" must have exactly one link (it has ${degree.get(h.name) ?? 0})`);
  for (const r of t.routers)
    if ((degree.get(r.name) ?? 0) > MAX_ROUTER_LINKS) throw bad(`router "${r.name}" has more than ${MAX_ROUTER_LINKS} links`);
  // Connected: walk from the first host.
  const adj = adjacency(t);
  const reached = new Set([t.hosts[0]!.name]);
  const todo = [t.hosts[0]!.name];
  while (todo.length) for (const { peer } of adj.get(todo.pop()!)!) if (!reached.has(peer)) (reached.add(peer), todo.push(peer));
  for (const n of [...t.hosts, ...t.routers]) if (!reached.has(n.name)) throw bad(`"${n.name}" is not connected to the rest`);
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
