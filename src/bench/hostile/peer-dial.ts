/**
 * How an attacker opens a peer connection as a node of its own making: a fresh identity (so a fresh
 * node id) per connection, from a source address it chooses, speaking the project's handshake.
 */
import { generateIdentity, type Identity } from "../../identity/identity.ts";
import { LocalPeer, NOISE_HEADER, type ChannelKeys } from "../../peer/auth.ts";
import type { PeerEndpoint } from "../../peer/network.ts";
import { WS_PATH } from "../../peer/protocol.ts";
import { openRawWebSocket, type RawWebSocket } from "./raw-websocket.ts";

export interface AttackerDial {
  target: PeerEndpoint;
  localAddress?: string;
  identity?: Identity;
  /** The endpoint the attacker claims as its own ("ADDRESS:PORT"). */
  claim?: string;
  /** Stop after the server's message 2: a handshake left open. */
  halfOpen?: boolean;
  timeoutMs?: number;
}

/**
 * Upgrades and runs the handshake; `ok` when the target upgraded and proved itself (and, unless
 * half-open, the attacker's last message went out). `keys` let the attacker speak on the channel.
 */
export async function attackerDial(o: AttackerDial): Promise<{ ok: boolean; ws: RawWebSocket; keys?: ChannelKeys }> {
  const me = new LocalPeer(o.identity ?? generateIdentity(), "attacker");
  const { header, hs } = me.dial(o.target.nodeId);
  const ws = await openRawWebSocket({ host: o.target.address, port: o.target.port, path: WS_PATH, headers: { [NOISE_HEADER]: header }, localAddress: o.localAddress, timeoutMs: o.timeoutMs });
  if (ws.status !== 101) return { ok: false, ws };
  const m2 = await ws.next(o.timeoutMs);
  if (!m2 || m2.opcode !== 2) return { ok: false, ws };
  if (o.halfOpen) return { ok: true, ws };
  const { message3, keys } = me.finishDial(hs, m2.data, o.target.nodeId, o.claim ?? "");
  ws.send(message3);
  return { ok: true, ws, keys };
}
