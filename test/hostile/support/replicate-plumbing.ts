/** Plumbing of the replicate attacks (findings 3 and 14): attackers on loopback and images a target holds. */
import { ReplicateAttacker } from "../../../src/bench/hostile/replicate-attacker.ts";
import { generateIdentity, type Identity } from "../../../src/identity/identity.ts";
import type { PeerNetwork } from "../../../src/peer/network.ts";
import type { ImageRef } from "../../../src/peer/ops.ts";
import { iconProgram } from "../../support/memory-yard.ts";
import { LAYERS, type TestNode } from "../../support/replicate-nodes.ts";

/** An attacker on a fresh node key, signing as `owner` (a fresh key by default). */
export async function attacker(network: (id: Identity) => Promise<PeerNetwork>, owner: Identity = generateIdentity()): Promise<ReplicateAttacker> {
  return new ReplicateAttacker(await network(generateIdentity()), owner);
}

/** An image the node holds (as if fetched earlier) that runs `program` there; its ref as a peer names it. */
export async function held(n: TestNode, tag: string, program = iconProgram()): Promise<ImageRef> {
  const info = await n.engine.addImage(tag, { layers: [LAYERS[0]!, `the layer of ${tag}`] });
  n.engine.program(info.id, program);
  return { ref: tag, id: info.id, diffIds: info.diffIds };
}

export const replicas = (n: TestNode) => n.my.yard.list(true).filter((v) => v.role === "replica");
