/**
 * The node's metrics in the Prometheus text format (prom-client), served as GET /metrics on the local
 * API socket and on the dashboard listener. Counters the components already keep (DHT traffic and
 * drops, traces, peer connections, ICON states) are read when scraped; durations (DHT lookups and
 * stores, migrations) are observed as they happen. One registry per node, so that nodes sharing a
 * process (tests) do not mix. docs/dashboard.md lists every metric.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DhtComponent } from "../dht/component.ts";
import type { PeerComponent } from "../peer/component.ts";
import type { MigrationRecord } from "../peer/history.ts";
import type { TopologyComponent } from "../topology/component.ts";
import type { YardComponent } from "../yard/component.ts";
import { STATES } from "../yard/state.ts";

export interface MeteredParts {
  dht: DhtComponent;
  peer: PeerComponent;
  topology: TopologyComponent;
  yard: YardComponent;
}

/** A DHT lookup or store on a LAN takes milliseconds; under loss, retransmits stretch it to seconds. */
const DHT_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A direct migration is answered at once; hot takes about a second, cold several (thesis 4.2). */
const MIGRATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

type Read = () => [Record<string, string>, number][];

/** A counter or gauge whose value lives elsewhere (a component's own counters): read at each scrape. */
function readAtScrape(registry: Registry, type: "counter" | "gauge", name: string, help: string, labelNames: string[], read: Read): void {
  const config = { name, help, labelNames, registers: [registry] };
  if (type === "counter")
    new Counter({ ...config, collect() {
      this.reset();
      for (const [labels, v] of read()) this.inc(labels, v);
    } });
  else
    new Gauge({ ...config, collect() {
      this.reset();
      for (const [labels, v] of read()) this.set(labels, v);
    } });
}

const mirrored = (r: Registry, name: string, help: string, labelNames: string[], read: Read) => readAtScrape(r, "counter", name, help, labelNames, read);
const gauge = (r: Registry, name: string, help: string, labelNames: string[], read: Read) => readAtScrape(r, "gauge", name, help, labelNames, read);

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly detach: () => void;

  constructor(parts: MeteredParts, info: { nodeId: string; version: string; startedAt: number }) {
    const r = this.registry;
    const { dht, peer, topology, yard } = parts;
    const counters = () => dht.dht.counters;

    gauge(r, "icon_node_info", "Always 1; the labels say which node and version this is.", ["node_id", "version"], () => [[{ node_id: info.nodeId, version: info.version }, 1]]);
    gauge(r, "icon_node_start_time_seconds", "When this node started (Unix seconds).", [], () => [[{}, info.startedAt / 1000]]);

    mirrored(r, "icon_dht_datagrams_total", "DHT datagrams received (rx) and sent (tx), retransmissions included.", ["direction"], () => [[{ direction: "rx" }, counters().rx], [{ direction: "tx" }, counters().tx]]);
    mirrored(r, "icon_dht_bytes_total", "DHT bytes received (rx) and sent (tx).", ["direction"], () => [[{ direction: "rx" }, counters().rxBytes], [{ direction: "tx" }, counters().txBytes]]);
    mirrored(r, "icon_dht_rpcs_total", "DHT RPCs: requests from other nodes this node answered (served), its own requests answered (answered) or given up after every retransmission (timeout).", ["outcome"], () => [
      [{ outcome: "served" }, counters().requestsAnswered],
      [{ outcome: "answered" }, counters().repliesMatched],
      [{ outcome: "timeout" }, counters().rpcTimeouts],
    ]);
    mirrored(r, "icon_dht_retransmits_total", "DHT requests sent again because no answer came within the retransmission timeout.", [], () => [[{}, counters().retransmits]]);
    mirrored(r, "icon_dht_lookups_total", "Iterative DHT lookups started.", [], () => [[{}, counters().lookups]]);
    mirrored(r, "icon_dht_stores_accepted_total", "Records other nodes stored here.", [], () => [[{}, counters().storesAccepted]]);
    mirrored(r, "icon_dht_dropped_total", "DHT datagrams dropped, by reason (see docs/dashboard.md).", ["reason"], () => Object.entries(counters().dropped).map(([reason, v]) => [{ reason }, v]));
    gauge(r, "icon_dht_peers", "Nodes in the DHT routing table.", [], () => [[{}, dht.dht.table.size]]);
    gauge(r, "icon_dht_stored_keys", "Keys held in this node's DHT store.", [], () => [[{}, dht.dht.store.keys]]);
    const lookup = new Histogram({ name: "icon_dht_lookup_duration_seconds", help: "Duration of iterative DHT lookups (FIND_NODE and FIND_VALUE).", buckets: DHT_BUCKETS, registers: [r] });
    const put = new Histogram({ name: "icon_dht_put_duration_seconds", help: "Duration of storing a record at the k closest nodes (puts, announcements and their republishing).", buckets: DHT_BUCKETS, registers: [r] });
    dht.dht.onTiming = (op, ms) => (op === "lookup" ? lookup : put).observe(ms / 1000);

    mirrored(r, "icon_traces_total", "Traceroutes run (harvested addresses and clients), by result.", ["result"], () => {
      const t = topology.traceCounts();
      return t ? [[{ result: "ok" }, t.ok], [{ result: "failed" }, t.failed]] : [];
    });
    gauge(r, "icon_topology_routers", "Routers in the topology map.", [], () => {
      const t = topology.status();
      return "routers" in t ? [[{}, t.routers]] : [];
    });

    gauge(r, "icon_icons", "ICONs on this node, by state and role.", ["state", "role"], () => {
      const views = yard.yard.list(true);
      return STATES.flatMap((state) => (["root", "replica"] as const).map((role): [Record<string, string>, number] => [{ state, role }, views.filter((v) => v.state === state && v.role === role).length]));
    });
    gauge(r, "icon_icon_clients", "Clients an ICON last reported through icon.clients(n).", ["icon"], () =>
      yard.yard.list(true).flatMap((v): [Record<string, string>, number][] => {
        const n = yard.yard.clients(v.name);
        return n === undefined ? [] : [[{ icon: v.name }, n]];
      }),
    );

    gauge(r, "icon_peer_connections", "Open peer-protocol connections, by who dialled (in: the other node, out: this one).", ["direction"], () => {
      const conns = peer.network.connections();
      return (["in", "out"] as const).map((direction) => [{ direction }, conns.filter((c) => c.direction === direction).length]);
    });
    // Both sides: what this node's ICONs' policies refused as a source, and what admission and quotas refused as a target.
    mirrored(r, "icon_quota_refusals_total", "Replicas refused by an ICON's policy (maxReplicas, budget) as the source, or by admission or a quota (notAdmitted, manifest, quotaPerOwner, quotaPerPeer, quotaTotal) as the target, by reason.", ["reason"], () =>
      [...Object.entries(peer.refusals), ...Object.entries(peer.target?.refused() ?? {})].map(([reason, v]) => [{ reason }, v]));

    const migrations = new Counter({ name: "icon_migrations_total", help: "Replicates this node made as the source, by mode and result.", labelNames: ["mode", "result"], registers: [r] });
    const migrationSeconds = new Histogram({ name: "icon_migration_duration_seconds", help: "Duration of successful replicates as the source saw them (request to answer), by mode.", labelNames: ["mode"], buckets: MIGRATION_BUCKETS, registers: [r] });
    const shipped = new Counter({ name: "icon_migration_bytes_shipped_total", help: "Image bytes the targets fetched from this node for new replicas.", registers: [r] });
    const observe = (m: MigrationRecord) => {
      migrations.inc({ mode: m.mode, result: m.ok ? "ok" : "failed" });
      if (m.ok) migrationSeconds.observe({ mode: m.mode }, m.ms.total / 1000);
      shipped.inc(m.bytes);
    };
    this.detach = peer.history.onRecord(observe);
  }

  /** The text GET /metrics answers. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.detach();
  }
}
