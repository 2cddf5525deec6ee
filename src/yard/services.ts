/**
 * What an ICON may ask of the network through its runtime socket, beyond its own lifecycle: find
 * closer orchestrators (topology), replicate, and talk to its parent and children (peer
 * protocol). The yard dispatches those requests here; the node plugs in the implementation
 * (yard.setServices). Until then every call fails with a clear UNSUPPORTED error: no fake answers.
 */
import type { Candidate, ReplicaStatus, ReplicaTarget, ReplicateOptions } from "./protocol.ts";
import { IconError } from "../errors.ts";
import type { IconRecord } from "./types.ts";

/** The ICON making the request, as the yard knows it (it can only ever act as itself). */
export interface IconRef {
  name: string;
  role: IconRecord["role"];
  parent?: IconRecord["parent"];
  image: string;
  /** Its endpoint on this node. */
  address: string;
  port: number;
  children: string[];
}

export interface IconServices {
  /** Orchestrators closer to the client than this node, closest first. */
  findCloser(icon: IconRef, client: string): Promise<Candidate[]>;
  /**
   * Starts a replica of `icon` on `target`; resolves with its replica id once the request is accepted.
   * Status changes (running at endpoint, failed, stopped) arrive later through onStatus.
   */
  replicate(icon: IconRef, target: ReplicaTarget, options: ReplicateOptions, onStatus: (s: ReplicaStatus) => void): Promise<{ replica: string }>;
  /** Resolves true when the parent's node accepted the message. */
  sendToParent(icon: IconRef, data: unknown): Promise<boolean>;
  /** Resolves with the number of children reached. */
  sendToChildren(icon: IconRef, data: unknown): Promise<number>;
}

const missing = (what: string) =>
  new IconError("UNSUPPORTED", `not available: this node has no peer protocol yet (${what})`,
    "Run a node build that includes the topology and peer components; until then an ICON can only run and report ready.");

/** The services of a node that has no topology or peer component plugged in. */
export const unavailableServices: IconServices = {
  findCloser: () => Promise.reject(missing("findCloser")),
  replicate: () => Promise.reject(missing("replicate")),
  sendToParent: () => Promise.reject(missing("sendToParent")),
  sendToChildren: () => Promise.reject(missing("sendToChildren")),
};
