/**
 * Finding 8, plain HTTP: the peer port answers GETs before any handshake. An attacker sends them as fast
 * as it can from one /24; whatever the node keeps or computes per GET is what the flood can exhaust.
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import type { AttackReport } from "./peer-attacks.ts";

export interface InfoFloodOptions {
  target: Pick<PeerEndpoint, "address" | "port">;
  requests: number;
  /** Requests in flight at once. @default 16 */
  parallel?: number;
}

export async function floodPeerInfo(o: InfoFloodOptions): Promise<AttackReport & { detail: { answered: number; limited: number; version: boolean } }> {
  let answered = 0;
  let limited = 0;
  let version = false;
  let next = 0;
  const worker = async () => {
    while (next++ < o.requests) {
      const r = await fetch(`http://${o.target.address}:${o.target.port}/v1/peer/info`).catch(() => undefined);
      if (r?.status === 200) {
        answered++;
        version ||= "version" in ((await r.json()) as object);
      } else if (r) (limited++, await r.body?.cancel());
    }
  };
  await Promise.all(Array.from({ length: o.parallel ?? 16 }, worker));
  return {
    finding: 8, attack: "peer-info-flood",
    outcome: limited === 0 ? "succeeded" : answered === 0 ? "refused" : "contained",
    detail: { requests: o.requests, answered, limited, version },
  };
}
