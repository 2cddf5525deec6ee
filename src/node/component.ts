import type { Hono } from "hono";

/**
 * A part of a running node (DHT, topology, yard, peer protocol). The node starts them in order,
 * stops them in reverse, mounts their local API routes, and merges their status into `node status`.
 */
export interface NodeComponent {
  readonly name: string;
  start(): Promise<void>;
  /** Stops cleanly and saves what must survive a restart. */
  stop(): Promise<void>;
  /** Local API routes under /v1/<name>/... */
  routes?(app: Hono): void;
  /** Called once every component has started, for links between components. */
  started?(): Promise<void>;
  /** Fields merged into `icon node status`. */
  status?(): Record<string, unknown>;
}
