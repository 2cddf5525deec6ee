/**
 * What the yard knows about an ICON: the persisted record (what to run and with which pinned port) and
 * the view the local API shows. The state itself lives in state.ts.
 */
import type { SignedManifest } from "./manifest.ts";
import type { Endpoint, Policy } from "./protocol.ts";
import type { IconState } from "./state.ts";
import type { IconNetFacts } from "../engine/icon-network.ts";

export type Role = "root" | "replica";

export interface ParentRef {
  nodeId: string;
  icon: string;
}

/** Limits a container runs under; defaults come from config (iconMemory, iconCpus, iconPids). */
export interface Limits {
  memoryBytes: number;
  cpus: number;
  pids: number;
}

/** `<data-dir>/icons/<name>/icon.json`: everything needed to recreate and reconcile the ICON. */
export interface IconRecord {
  name: string;
  image: string;
  role: Role;
  parent?: ParentRef;
  /** Pinned port: published on the host, or handed out inside networkContainer's namespace. */
  port: number;
  env: Record<string, string>;
  limits: Limits;
  /** uid:gid the container runs as. */
  user: string;
  /** The image's VOLUME paths (each gets a capped tmpfs); absent in records of older nodes. */
  volumes?: string[];
  createdAt: string;
  containerId?: string;
  /** Replica ids of this ICON's children, kept by the peer protocol. */
  children: string[];
  policy: Policy;
  /**
   * What the ICON is, signed by its owner: this node's key for a root ICON (signed again when its
   * policy changes), the manifest the request carried for a replica. Replicates send it unchanged.
   */
  manifest?: SignedManifest;
  /** What a replica gets from icon.initialState(). */
  initialState?: unknown;
  /** Last state and failure reason, so a restarted node can report a FAILED ICON as failed. */
  lastState: IconState;
  reason?: string;
  /**
   * The ICON has asked for closer nodes (icon.findCloser) at least once: the node then starts that work at a
   * client's SYN to its port (topology/syn-watcher.ts). An ICON that never asks (a replica that stays put, a
   * plain service) would only cost traces to its clients.
   */
  asksCloser?: boolean;
  /** Set before the container is removed, so a node killed mid-rm finishes the job at restart. */
  removing?: boolean;
}

/** One row of `icon ps --json`. */
export interface IconView {
  name: string;
  image: string;
  state: IconState;
  address: string;
  port: number;
  role: Role;
  parent: string | null;
  children: string[];
  createdAt: string;
  /** The owner's key (hex): the node key that ran the root ICON; null for a record without a manifest. */
  owner: string | null;
  reason?: string;
  containerId?: string;
  /** What the node lets it reach, and its address on the node's bridge while it runs. */
  network: IconNetFacts;
}

export interface RunRequest {
  image: string;
  name?: string;
  port?: number;
  env?: Record<string, string>;
  /** Docker-style sizes: 256m, 1g. */
  memory?: string;
  cpus?: number;
  pids?: number;
  user?: string;
  /** Seconds to wait for the runtime's ready; default config iconReadySec. */
  readyTimeoutSec?: number;
}

/** How the peer protocol asks for a replica; the port is always allocated, the policy is the manifest's. */
export interface ReplicaRequest extends Omit<RunRequest, "port"> {
  parent: ParentRef;
  initialState?: unknown;
  manifest: SignedManifest;
}

export type { Endpoint };
