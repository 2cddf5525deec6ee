/**
 * The ICON state machine (after the thesis's STOPPED/RUNNING states of figure 3.4):
 *
 *   STOPPED ──start──▶ STARTING ──container up──▶ WAITING_READY ──runtime ready──▶ RUNNING ◀──start──┐
 *      ▲                  │                           │                               │   │     pause  │
 *      └──────stop────────┴───────────────────────────┴───────────────────────────────┘   └──────▶ PAUSED
 *   any ──▶ FAILED (with a reason); FAILED ──start──▶ STARTING, FAILED ──stop──▶ STOPPED; PAUSED ──stop──▶ STOPPED
 *
 * PAUSED: the container is frozen (cgroup freezer), its memory and sockets kept: a start thaws it in
 * tens of ms, RUNNING at once (the thesis's "thawed from hibernation"; the warm migration).
 *
 * WAITING_READY also follows a node restart that finds the container running: the runtime
 * reconnects and says ready again.
 */
import { IconError } from "../errors.ts";

export const STATES = ["STOPPED", "STARTING", "WAITING_READY", "RUNNING", "PAUSED", "FAILED"] as const;
export type IconState = (typeof STATES)[number];

const ALLOWED: Record<IconState, readonly IconState[]> = {
  STOPPED: ["STARTING", "WAITING_READY", "FAILED"],
  STARTING: ["WAITING_READY", "STOPPED", "FAILED"],
  WAITING_READY: ["RUNNING", "STOPPED", "FAILED"],
  RUNNING: ["WAITING_READY", "STOPPED", "FAILED", "PAUSED"],
  PAUSED: ["RUNNING", "STOPPED", "FAILED"],
  FAILED: ["STARTING", "WAITING_READY", "STOPPED"],
};

export function canTransition(from: IconState, to: IconState): boolean {
  return from === to || ALLOWED[from].includes(to);
}

export function assertTransition(name: string, from: IconState, to: IconState): void {
  if (!canTransition(from, to)) throw new IconError("INTERNAL", `ICON ${name}: no transition from ${from} to ${to}`);
}

/** States in which the container is (meant to be) up; `icon ps` without --all shows these. */
export const ACTIVE: readonly IconState[] = ["STARTING", "WAITING_READY", "RUNNING", "PAUSED"];

/** Emitted on every transition; the local API streams these and the peer protocol subscribes. */
export interface StateEvent {
  type: "state";
  name: string;
  state: IconState;
  previous: IconState;
  /** Why it FAILED (with the container's last log lines when it exited) or stopped. */
  reason?: string;
  /** Where clients reach it, once RUNNING. */
  address?: string;
  port?: number;
  at: string;
}
