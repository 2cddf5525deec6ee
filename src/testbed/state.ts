/**
 * The state file /run/icon-testbed/NAME.json: written BEFORE anything is created and updated as `up`
 * goes, so `down` can remove a half-made testbed after a crash of anything. `status --json` is derived
 * from it and is the contract other code reads (README "Testbed").
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { IconError } from "../errors.ts";
import { STATE_DIR, statePath } from "./names.ts";
import type { Plan } from "./plan.ts";

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

export interface StatusHost {
  name: string; netns: string; address: string; container?: string;
  /** `--engines`: absolute path of the Unix socket of this host's own Docker engine. */
  dockerSocket?: string;
  /** `--engines`: whether that engine's daemon is alive. */
  dockerd?: "running" | "dead";
}
export interface StatusRouter { name: string; netns: string; addresses: string[]; block: string }
export interface StatusLink {
  a: string; b: string; delayMs: number; rateMbit: number | null; loss: number;
  /** Address of each end on this link. */
  aAddress: string; bAddress: string;
}

/** The JSON of `icon testbed status --json`. */
export interface TestbedStatus {
  name: string;
  topology: string;
  phase: "creating" | "up";
  docker: boolean;
  /** A Docker engine per container-owned host (hosts[].dockerSocket). */
  engines: boolean;
  hosts: StatusHost[];
  routers: StatusRouter[];
  links: StatusLink[];
  delayPid?: number;
  /** Whether the delay process is alive: when it is not, delayed links drop every packet (fail closed). */
  delayd: "running" | "dead" | "none";
}

/** `dockerdAlive(host)`: is that host's dockerd alive (only asked for hosts with an engine)? */
export function statusOf(state: TestbedState, delaydAlive: boolean, dockerdAlive: (host: string) => boolean = () => true): TestbedStatus {
  const { plan } = state;
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  const addrOn = (node: string, peer: string) => byName.get(node)!.ifaces.find((i) => i.peerNode === peer)!.address;
  return {
    name: plan.testbed,
    topology: plan.topology.source,
    phase: state.phase,
    docker: state.docker,
    engines: state.engines === true,
    hosts: plan.nodes.filter((n) => n.kind === "host").map((n) => ({
      name: n.name, netns: n.netns, address: n.address, ...(n.container ? { container: n.container } : {}),
      ...(n.engine ? { dockerSocket: n.engine.socket, dockerd: dockerdAlive(n.name) ? "running" as const : "dead" as const } : {}),
    })),
    routers: plan.nodes.filter((n) => n.kind === "router").map((n) => ({
      name: n.name, netns: n.netns, addresses: n.ifaces.map((i) => i.address), block: n.address,
    })),
    links: plan.topology.links.map((l) => ({
      a: l.a, b: l.b, delayMs: l.delayMs, rateMbit: l.rateMbit ?? null, loss: l.loss ?? 0,
      aAddress: addrOn(l.a, l.b), bAddress: addrOn(l.b, l.a),
    })),
    ...(state.delayPid ? { delayPid: state.delayPid } : {}),
    delayd: state.delayPid === undefined ? "none" : delaydAlive ? "running" : "dead",
  };
}
