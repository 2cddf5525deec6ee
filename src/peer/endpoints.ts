/**
 * Where other nodes accept connections. An endpoint is known once this node dialled it and the node
 * there proved its id in the handshake; only known endpoints are saved and redialled after a restart.
 * What a peer says about itself when it dials in is a claim: kept apart until a dial proves it (the
 * network probes claims of the peer's own address at once; others only when it needs to reach that
 * node), never saved before. Both tables are bounded, oldest forgotten first, so fresh ids cannot grow them.
 */
import { join } from "node:path";
import type { Logger } from "../log.ts";

export interface PeerEndpoint {
  nodeId: string;
  address: string;
  port: number;
}

/** Endpoints kept in memory, each table. */
export const MAX_ENDPOINTS = 1024;
/** Endpoints saved for the next run (the most recently dialled). */
export const SAVED_ENDPOINTS = 64;

function put(map: Map<string, PeerEndpoint>, ep: PeerEndpoint): void {
  map.delete(ep.nodeId); // re-inserted last: the map's order is recency
  if (map.size >= MAX_ENDPOINTS) map.delete(map.keys().next().value!);
  map.set(ep.nodeId, ep);
}

export class PeerEndpoints {
  private readonly known = new Map<string, PeerEndpoint>();
  private readonly claimed = new Map<string, PeerEndpoint>();

  constructor(private readonly dataDir: string | undefined, private readonly log: Logger) {}

  /** This node dialled `ep` and the node there proved it is `ep.nodeId`. */
  verified(ep: PeerEndpoint): void {
    this.claimed.delete(ep.nodeId);
    put(this.known, ep);
  }

  /** A peer that dialled in says it accepts connections at `ep`; false when that is already known. */
  claim(ep: PeerEndpoint): boolean {
    const k = this.known.get(ep.nodeId);
    if (k?.address === ep.address && k.port === ep.port) return false;
    put(this.claimed, ep);
    return true;
  }

  /** The known endpoint of a node, else its claim. */
  get(nodeId: string): PeerEndpoint | undefined {
    return this.known.get(nodeId) ?? this.claimed.get(nodeId);
  }

  get sizes(): { known: number; claimed: number } {
    return { known: this.known.size, claimed: this.claimed.size };
  }

  private get file(): string | undefined {
    return this.dataDir ? join(this.dataDir, "peers.json") : undefined;
  }

  /** The endpoints saved by the last run, to redial. */
  async load(): Promise<PeerEndpoint[]> {
    const file = this.file;
    if (!file || !(await Bun.file(file).exists())) return [];
    try {
      const list = (await Bun.file(file).json()) as PeerEndpoint[];
      const ok = list.slice(0, SAVED_ENDPOINTS).filter((p) => typeof p?.nodeId === "string" && /^[0-9a-f]{40}$/.test(p.nodeId) && typeof p.address === "string" && Number.isInteger(p.port));
      for (const p of ok) put(this.known, p);
      return ok;
    } catch (e) {
      this.log.warn("ignoring an unreadable peers file", { path: file, error: e as Error });
      return [];
    }
  }

  async save(): Promise<void> {
    const file = this.file;
    if (file) await Bun.write(file, JSON.stringify([...this.known.values()].slice(-SAVED_ENDPOINTS)) + "\n").catch(() => {});
  }
}
