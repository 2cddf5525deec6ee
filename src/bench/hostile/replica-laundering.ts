/**
 * Finding 3 (replicas replicate onward under the victim node's identity): a stranger gets its ICON run
 * as a replica on an open node V, and that ICON, through V's runtime socket, asks V to replicate it
 * onward to T. T sees the request come from V; if T admits V's ICONs it would run the stranger's code
 * too. T must judge the request by the ICON's owner (the key in the manifest), not by V.
 */
import type { Icon } from "../../../icon-runtime/src/index.ts";
import type { ReplicaTarget } from "../../yard/protocol.ts";

export interface LaunderResult {
  ran: boolean;
  /** The replica's failure as the laundering ICON hears it. */
  failure?: string;
}

/** `icon`: the stranger's ICON as it runs on the victim node V; `target`: the node T it launders into. */
export async function launderThroughReplica(icon: Icon, target: ReplicaTarget): Promise<LaunderResult> {
  try {
    const replica = await icon.replicate(target);
    await replica.running;
    return { ran: true };
  } catch (e) {
    return { ran: false, failure: (e as Error).message };
  }
}
