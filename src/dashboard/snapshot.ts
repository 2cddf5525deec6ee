/**
 * Everything the dashboard shows, as one JSON object built from the running node: the node itself, the
 * network map, the ICONs as a tree across nodes, and the recent migrations. It holds only what this node
 * knows (its own ICONs, the replicas they made, its traces and what its DHT told it), never a global
 * view. The page (ui/) imports these types only.
 */
import type { IconNode } from "../node/node.ts";
import type { MigrationRecord } from "../peer/history.ts";
import type { Endpoint, Policy } from "../yard/protocol.ts";
import { parseReplicaId } from "../peer/ops.ts";

export interface NodeView {
  nodeId: string;
  version: string;
  startedAt: number;
  uptimeSec: number;
  /** Where other nodes reach it (advertised), what it binds, and what peers report seeing. */
  address: string;
  listen: string;
  externalAddress: string | null;
  /** Where peers reach the node, as they verified by dialling back (`reachability` of `icon node status`). */
  reachability: { ipv4: string; ipv6: string; announced: boolean; external: string[]; reason?: string };
  dhtPort: number;
  peerPort: number;
  peerConnections: number;
  docker: string;
  dht: { peers: number; storedKeys: number; rx: number; tx: number; retransmits: number; rpcTimeouts: number; lookups: number; droppedTotal: number; dropped: Record<string, number> };
}

export interface MapView {
  /** Why the map is empty when topology discovery is off. */
  off?: string;
  routers: { routerId: string; address: string; rttMs: number; hops: number; via: string; announced: boolean; nodes: { nodeId: string; address: string; peerPort: number; rttMs: number; hops: number }[] }[];
}

export interface ReplicaView {
  id: string;
  nodeId: string;
  name: string;
  /** What the replica's node last reported; "unknown" when this node has not heard since it started. */
  state: string;
  endpoint?: Endpoint;
}

export interface IconTreeView {
  name: string;
  image: string;
  state: string;
  role: "root" | "replica";
  address: string;
  port: number;
  /** Who the ICON belongs to: this node's operator for a root ICON, the parent's node for a replica. */
  owner: string;
  parent: { nodeId: string; icon: string } | null;
  clients: number | null;
  policy: Policy;
  reason?: string;
  children: ReplicaView[];
}

export interface Snapshot {
  at: number;
  node: NodeView;
  map: MapView;
  icons: IconTreeView[];
  migrations: MigrationRecord[];
}

export async function snapshotOf(node: IconNode, startedAt: number): Promise<Snapshot> {
  const s = await node.status();
  const { dht: dhtStatus } = s;
  const { topology, yard, peer } = node.parts;
  const topo = topology.status();
  const now = Date.now();
  return {
    at: now,
    node: {
      nodeId: s.nodeId,
      version: s.version,
      startedAt,
      uptimeSec: Math.round((now - startedAt) / 1000),
      address: s.address,
      listen: node.config.listen,
      externalAddress: dhtStatus.externalAddress,
      reachability: {
        ipv4: s.reachability.ipv4, ipv6: s.reachability.ipv6, announced: s.reachability.announced,
        external: s.reachability.external.map((e) => `${e.address} (DHT udp ${e.dhtPort}, peers tcp ${e.peerPort})`),
        ...(s.reachability.reason ? { reason: s.reachability.reason } : {}),
      },
      dhtPort: s.dhtPort,
      peerPort: s.peerPort,
      peerConnections: s.peer.connections,
      docker: String(s.yard.docker),
      dht: {
        peers: dhtStatus.peers, storedKeys: dhtStatus.storedKeys, rx: dhtStatus.rx, tx: dhtStatus.tx, retransmits: dhtStatus.retransmits,
        rpcTimeouts: dhtStatus.rpcTimeouts, lookups: dhtStatus.lookups, droppedTotal: dhtStatus.droppedTotal, dropped: dhtStatus.dropped,
      },
    },
    map: {
      ...("off" in topo ? { off: topo.off } : {}),
      routers: topology.knownRouters().map((r) => ({
        routerId: r.routerId, address: r.address, rttMs: r.rttMs, hops: r.hops, via: r.via, announced: r.announcedAt !== undefined,
        nodes: r.nodes.map((a) => ({ nodeId: a.nodeId, address: a.address, peerPort: a.peerPort, rttMs: a.rttMs, hops: a.hops })),
      })),
    },
    icons: yard.yard.list(true).map((v): IconTreeView => {
      const rec = yard.yard.record(v.name);
      const parent = rec?.parent ?? null;
      return {
        name: v.name, image: v.image, state: v.state, role: v.role, address: v.address, port: v.port,
        owner: parent ? parent.nodeId : s.nodeId,
        parent, clients: yard.yard.clients(v.name) ?? null, policy: rec?.policy ?? {}, ...(v.reason ? { reason: v.reason } : {}),
        children: v.children.map((id) => {
          const known = peer.source?.children.get(id);
          const ref = parseReplicaId(id);
          return { id, nodeId: ref?.nodeId ?? "", name: ref?.name ?? id, state: known?.state ?? "unknown", ...(known?.endpoint ? { endpoint: known.endpoint } : {}) };
        }),
      };
    }),
    migrations: peer.history.list(),
  };
}
