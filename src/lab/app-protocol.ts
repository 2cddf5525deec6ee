/**
 * The sample application's own messages between its client (client.ts) and its server
 * (examples/migrate-app/server.ts), thesis 3.1.3: a handshake, and a migrate message that the client
 * follows blindly. Not part of the orchestrator: an ICON author chooses their own protocol. It lives in
 * the lab because the lab's client speaks it and the example server imports it from here.
 */
import type { ReplicaTimings } from "icon-runtime";

/** The orchestrator's account of a replicate, passed on to the client for the benchmark. */
export type { ReplicaTimings };

/** Small per-client state the server keeps and hands to the replica the client moves to. */
export interface ClientState {
  clientId: string;
  counter: number;
  note: string;
}

export type ClientMessage = { type: "hello"; clientId: string; state?: ClientState };

export type ServerMessage =
  | { type: "welcome"; server: string; state: ClientState | null }
  | { type: "migrate"; url: string; gainMs: number; mode: string; timings?: ReplicaTimings }
  /** No closer replica could be had: the client stays served here. */
  | { type: "stay"; reason: string }
  | { type: "error"; message: string };

export const WS_PATH = "/ws";
