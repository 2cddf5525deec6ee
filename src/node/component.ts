/**
 * A part of a running node (DHT, topology, yard, peer protocol). The node starts them in order and
 * stops them in reverse; its local API (node/api.ts) mounts each one's routes, and `node status` shows
 * each one's status under its own key.
 */
export interface NodeComponent {
  readonly name: string;
  start(): Promise<void>;
  /** Stops cleanly and saves what must survive a restart. */
  stop(): Promise<void>;
  /** Called once every component has started, for links between components. */
  started?(): Promise<void>;
}
