/**
 * The runtime protocol between an ICON and its orchestrator (thesis 3.1.2: "a Unix socket that is mapped
 * inside the container at a static pre-defined location ... using a simple JSON messaging API").
 *
 * Framing: one JSON object per line (newline-delimited), UTF-8, at most MAX_LINE_BYTES per line.
 * The ICON sends requests `{id, op, ...}`; the orchestrator answers each with `{id, ok: true, result}` or
 * `{id, ok: false, error, code, fix?}`, and pushes events `{event, ...}` (no id) at any time.
 * The first request on every connection is `hello`, which carries the protocol version. Requests may be
 * pipelined; answers can come back in any order.
 *
 * This file is shared: the orchestrator (src/yard) imports these types, and it is copied into the
 * icon-runtime image, so it must stay free of imports.
 */

export const PROTOCOL_VERSION = 1;
/** Fixed path inside every ICON container; the orchestrator mounts one directory per ICON at SOCKET_DIR. */
export const SOCKET_DIR = "/run/icon";
export const SOCKET_PATH = "/run/icon/icon.sock";
/** Longest line either side accepts; messages and initial state must fit (JSON, bytes). */
export const MAX_LINE_BYTES = 256 * 1024;

/** Where clients reach an ICON: the node's advertised address and the ICON's pinned port. */
export interface Endpoint {
  address: string;
  port: number;
}

/** An orchestrator closer to a client than this one (answer of findCloser, input of replicate). */
export interface Candidate {
  nodeId: string;
  /** The node's address and its peer-protocol port. */
  address: string;
  peerPort: number;
  /** Round-trip time from that node to the client's path, in ms (thesis 3.1.1 announcements). */
  rttMs: number;
  /** RTT from this node to the same path, for comparing gains. */
  ownRttMs?: number;
  /** The routerId (address/29) where both paths meet. */
  routerId?: string;
  /** Announced price per replica-hour. */
  price?: number;
}

/** Where to replicate: a candidate from findCloser, or at least a node id. */
export interface ReplicaTarget {
  nodeId: string;
  address?: string;
  peerPort?: number;
}

export interface ReplicateOptions {
  /** Handed to the replica as its initial state (icon.initialState()); JSON, bounded by MAX_LINE_BYTES. */
  state?: unknown;
  /** Extra environment for the replica (K=V); ICON_* names are reserved. */
  env?: Record<string, string>;
}

export type ReplicaStatus =
  | { replica: string; target: string; state: "running"; endpoint: Endpoint; /** how it came to run: direct, warm, hot, prefetched, cold or registry */ mode?: string; timings?: ReplicaTimings }
  | { replica: string; target: string; state: "failed"; reason: string; /** the error code, e.g. NOT_ADMITTED or QUOTA when the target refused */ code?: string }
  | { replica: string; target: string; state: "stopped" };

/** Where a replicate's time went, in ms (for researchers; absent on a direct answer). */
export interface ReplicaTimings {
  /** From the replicate request to the answer, on this node: network plus everything the target did. */
  replicateMs: number;
  /** On the target: fetching and loading the image (cold), starting until ready, and its total. */
  imageMs: number;
  startMs: number;
  targetMs: number;
  /** Of imageMs (cold, from a peer): the engine's load after the last layer arrived verified. */
  engineMs?: number;
  /** Compressed image bytes that travelled to the target (0 when it held the image). */
  bytes?: number;
}

/** An ICON's own rules for replicating; stored by the orchestrator and used by its peer protocol. */
export interface Policy {
  /** Replicate only when the target is at least this much closer to the client (ms of RTT). */
  minRttGainMs?: number;
  /** Most replicas this ICON may have at once. */
  maxReplicas?: number;
  /**
   * A replica that served no client for this long (seconds) is paused (frozen, memory kept: the next
   * client thaws it in tens of ms), or stopped when pausedSec is 0.
   */
  idleStopSec?: number;
  /** How long an idle replica stays paused before it is stopped (seconds; default 600, 0: never paused). */
  pausedSec?: number;
  /** Remove a stopped replica after this long (seconds). */
  idleRemoveSec?: number;
  /** Highest total price per hour the ICON accepts for its replicas. */
  budget?: number;
  /** Let nodes that keep being candidates fetch this ICON's image ahead of need (default true). */
  prefetch?: boolean;
}

export const POLICY_FIELDS = ["minRttGainMs", "maxReplicas", "idleStopSec", "pausedSec", "idleRemoveSec", "budget", "prefetch"] as const;

export interface IconInfo {
  name: string;
  role: "root" | "replica";
  /** The node this ICON runs on. */
  nodeId: string;
  /** For a replica: the ICON it was replicated from. */
  parent?: { nodeId: string; icon: string };
  endpoint: Endpoint;
}

export interface HelloResult {
  protocol: number;
  icon: IconInfo;
  /** What the parent passed in replicate(target, {state}); null for a root ICON. */
  initialState: unknown;
  policy: Policy;
}

/** Requests, ICON → orchestrator. `id` is chosen by the ICON and echoed in the answer. */
export type Request =
  | { id: number; op: "hello"; protocol: number; runtime?: string }
  | { id: number; op: "ready"; port: number }
  | { id: number; op: "findCloser"; client: string }
  | { id: number; op: "replicate"; target: ReplicaTarget; options?: ReplicateOptions }
  | { id: number; op: "sendToParent"; data: unknown }
  | { id: number; op: "sendToChildren"; data: unknown }
  | { id: number; op: "policy"; policy: Policy }
  /** How many clients the ICON serves now; a replica idle past policy.idleStopSec is stopped. */
  | { id: number; op: "clients"; count: number };

export type Op = Request["op"];

/** What each request resolves to. */
export interface Results {
  hello: HelloResult;
  ready: { endpoint: Endpoint };
  findCloser: { candidates: Candidate[] };
  replicate: { replica: string };
  sendToParent: { delivered: boolean };
  sendToChildren: { delivered: number };
  policy: { policy: Policy };
  clients: { count: number };
}

export type Answer =
  | { id: number; ok: true; result: unknown }
  | { id: number | null; ok: false; error: string; code: string; fix?: string };

/** Events, orchestrator → ICON. */
export type Event =
  | { event: "message"; from: "parent" | "child"; /** the child's replica id */ child?: string; data: unknown }
  | ({ event: "replica" } & ReplicaStatus)
  | { event: "terminate"; reason: string; /** ms before the container is killed */ graceMs: number };
