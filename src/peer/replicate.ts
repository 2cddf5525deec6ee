/**
 * Both sides of replicate on one node, plugged into its peer network and its yard: the source's
 * services for the yard's ICONs, the target's handlers for other nodes, and image shipping. A node
 * does this once its yard runs (component.ts); the in-memory tests do the same with a memory engine.
 */
import { engineImageHost } from "../images/engine-host.ts";
import { LayerSource, OP_LAYERS } from "../images/ship.ts";
import type { Logger } from "../log.ts";
import type { Candidate } from "../yard/protocol.ts";
import type { Yard } from "../yard/yard.ts";
import type { MigrationHistory } from "./history.ts";
import type { Admission } from "./admission.ts";
import type { PeerNetwork } from "./network.ts";
import { OP } from "./ops.ts";
import { ReplicateSource } from "./replicate-source.ts";
import { QuotaLedger, type Holding, type Quotas } from "./quota.ts";
import { ReplicateTarget, holdingOf } from "./replicate-target.ts";

export interface ReplicateInit {
  network: PeerNetwork;
  yard: Yard;
  /** The yard once its engine answers (a peer's request may come before). */
  ready: () => Promise<Yard>;
  findCloser: (client: string) => Promise<Candidate[]>;
  log: Logger;
  prefetchAfter: number;
  /** Where the source records the migrations it made (the dashboard and `GET /v1/migrations` read it). */
  history?: MigrationHistory;
  /** Counts replicates refused by policy or quota, by reason. */
  onRefused?: (reason: string) => void;
  /** Whose ICONs this node runs as replicas, and how much of them. */
  admission: Admission;
  quotas: Quotas;
}

export function startReplicate(o: ReplicateInit): { source: ReplicateSource; target: ReplicateTarget } {
  const { network, yard, log } = o;
  const images = engineImageHost(yard.engine);
  const layers = new LayerSource(images, log.child("images"));
  const quota = new QuotaLedger({
    quotas: o.quotas,
    holdings: () => yard.records().map(holdingOf).filter((h): h is Holding => !!h),
    imageSize: async (id) => (await yard.engine.inspectImage(id))?.size,
  });
  const target = new ReplicateTarget({ nodeId: network.nodeId, network, yard: o.ready, images, admission: o.admission, quota, log });
  const source = new ReplicateSource({ nodeId: network.nodeId, network, yard, findCloser: o.findCloser, images, layers, log, prefetchAfter: o.prefetchAfter, history: o.history, onRefused: o.onRefused });
  network.handle(OP.replicate, target.replicate);
  network.handle(OP_LAYERS, layers.serve);
  network.handle(OP.message, source.message);
  network.onMessage(OP.status, source.status);
  network.onMessage(OP.offer, target.offer);
  target.watch(yard);
  yard.setServices(source);
  // Root ICONs' images are saved and split as soon as they run, so a cold replicate does not wait for `docker save`.
  yard.events.on("state", (ev) => {
    const rec = ev.state === "RUNNING" ? yard.record(ev.name) : undefined;
    if (rec?.role === "root") layers.prepare(rec.image).catch((e) => log.warn("could not prepare the image for shipping", { image: rec.image, error: e as Error }));
  });
  return { source, target };
}
