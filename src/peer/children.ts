/**
 * What a node knows of the replicas of its ICONs: their last reported state and endpoint. It is what
 * makes a direct migration direct: a replica known to run is handed to the ICON without a round trip.
 * Knowledge comes from replicate answers and status messages, and is dropped when the connection to the
 * replica's node closes (a restarted node stopped its ICONs; the next replicate asks again).
 */
import type { Endpoint } from "../yard/protocol.ts";
import { parseReplicaId } from "./ops.ts";

export interface ChildState {
  icon: string;
  state: "running" | "stopped" | "failed";
  endpoint?: Endpoint;
  /** The price the node announced when it was chosen. */
  price: number;
}

export class Children {
  private readonly byId = new Map<string, ChildState>();

  get(id: string): ChildState | undefined {
    return this.byId.get(id);
  }

  set(id: string, s: ChildState): void {
    this.byId.set(id, s);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  /** Forgets what we knew of the replicas on a node whose connection closed. */
  forgetNode(nodeId: string): void {
    for (const id of this.byId.keys()) if (parseReplicaId(id)?.nodeId === nodeId) this.byId.delete(id);
  }

  /** Sum of the prices of an ICON's running replicas, for its budget. */
  spending(icon: string): number {
    let sum = 0;
    for (const c of this.byId.values()) if (c.icon === icon && c.state === "running") sum += c.price;
    return sum;
  }
}
