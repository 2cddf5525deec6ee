/**
 * The runtime protocol as the orchestrator uses it. The messages are defined once, in
 * icon-runtime/src/protocol.ts (the ICON's side); src/ imports only their types from there, because the
 * library's files are also embedded as text into the binary (runtime-files.ts) and Bun's bundler cannot
 * import one file both as a module and as text. The few constants are repeated here, and
 * protocol.test.ts checks that they equal the library's.
 */
export type {
  Answer,
  Candidate,
  Endpoint,
  Event,
  HelloResult,
  IconInfo,
  Policy,
  ReplicaStatus,
  ReplicaTarget,
  ReplicateOptions,
  Request,
} from "../../icon-runtime/src/protocol.ts";

export const PROTOCOL_VERSION = 1;
export const SOCKET_DIR = "/run/icon";
export const SOCKET_PATH = "/run/icon/icon.sock";
export const MAX_LINE_BYTES = 256 * 1024;
export const POLICY_FIELDS = ["minRttGainMs", "maxReplicas", "idleStopSec", "pausedSec", "idleRemoveSec", "budget", "prefetch"] as const;
