/**
 * Finding 8, endpoints: peers name their own endpoint in the handshake. An attacker connects as many
 * fresh node ids, each claiming a victim's address as its endpoint, hoping the target saves the claims
 * and dials the victim (after a restart, or whenever it wants to reach those "nodes").
 */
import net from "node:net";
import type { PeerEndpoint } from "../../peer/network.ts";
import { attackerDial } from "./peer-dial.ts";
import type { AttackReport } from "./peer-attacks.ts";

/** A TCP listener standing in for the victim: it counts the connections the target makes to it. */
export async function victimListener(address: string): Promise<{ endpoint: string; dials(): number; close(): void }> {
  let dials = 0;
  const server = net.createServer((s) => {
    dials++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  const port = (server.address() as net.AddressInfo).port;
  return { endpoint: `${address}:${port}`, dials: () => dials, close: () => server.close() };
}

export interface EndpointClaimOptions {
  target: PeerEndpoint;
  /** The endpoint every fake node claims ("ADDRESS:PORT"). */
  claim: string;
  ids: number;
  localAddress?: string;
}

/** Connects `ids` fresh node ids claiming `claim`; how many the target accepted. The claims' effect is the victim's to count. */
export async function claimEndpoints(o: EndpointClaimOptions): Promise<AttackReport> {
  let accepted = 0;
  for (let i = 0; i < o.ids; i++) {
    const { ok, ws } = await attackerDial({ target: o.target, localAddress: o.localAddress, claim: o.claim }).catch(() => ({ ok: false, ws: undefined }));
    if (ok) accepted++;
    ws?.close();
  }
  return { finding: 8, attack: "peer-endpoint-claims", outcome: "contained", detail: { ids: o.ids, accepted, claim: o.claim } };
}
