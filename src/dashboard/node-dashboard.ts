/**
 * The dashboard of a running node: serves its snapshot and metrics on dashboardListen and tells open pages
 * when the node reports a change (an ICON's state or policy, a migration, a peer connection). The URL,
 * with the token when there is one, is logged once.
 */
import type { NodeMetrics } from "../metrics/node-metrics.ts";
import type { IconNode } from "../node/node.ts";
import { serveDashboard, type DashboardServer } from "./server.ts";
import { snapshotOf } from "./snapshot.ts";

export async function startNodeDashboard(node: IconNode, metrics: NodeMetrics, startedAt: number): Promise<{ server: DashboardServer; stop(): Promise<void> }> {
  const log = node.log.child("dashboard");
  const server = await serveDashboard({ listen: node.config.dashboardListen, dataDir: node.config.dataDir, snapshot: () => snapshotOf(node, startedAt), metrics, log });
  const { yard, peer } = node.parts;
  const changed = () => server.changed();
  const off = [yard.yard.events.on("state", changed), yard.yard.events.on("policy", changed), yard.yard.events.on("removed", changed), peer.history.onRecord(changed)];
  peer.network.onConnect((c) => {
    changed();
    c.onClose(changed);
  });
  log.info("dashboard listening", { url: server.token ? `${server.url}?token=${server.token}` : server.url, socket: server.socketPath });
  return {
    server,
    async stop() {
      for (const f of off) f();
      await server.stop();
    },
  };
}
