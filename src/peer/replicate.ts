/**
 * Both sides of replicate on one node, plugged into its peer network and its yard: the source's
 * services for the yard's ICONs, the target's handlers for other nodes, and image shipping. A node
 * does this once its yard runs (component.ts); the in-memory tests do the same with a memory engine.
 */
import { engineImageHost } from "../images/engine-host.ts";
import type { ImageHost } from "../images/host.ts";
import { ImageShipping, type ImageConfig } from "../images/images.ts";
import { OP_LAYERS } from "../images/ship.ts";
import type { Logger } from "../log.ts";
import type { Candidate } from "../yard/protocol.ts";
import type { Yard } from "../yard/yard.ts";
import type { MigrationHistory } from "./history.ts";
import type { Admission } from "./admission.ts";
import type { PeerNetwork } from "./network.ts";
import { OP, type ImageRef } from "./ops.ts";
import { pullFromRegistry } from "../images/registry-pull.ts";
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
  /** Data dir, image limits, quotas and collection (config). */
  images: ImageConfig;
  /** HOST:PORT of a registry to pull replicas' images from instead of from their source (config registry); empty: none. */
  registry?: string;
}

/** Ids of the images the yard's ICONs use (root ICONs name a tag, replicas an id). */
async function iconImages(yard: Yard, images: ImageHost): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const v of yard.list(true)) {
    const id = v.image.startsWith("sha256:") ? v.image : (await images.inspectImage(v.image))?.id;
    if (id) ids.add(id);
  }
  return ids;
}

export async function startReplicate(o: ReplicateInit): Promise<{ source: ReplicateSource; target: ReplicateTarget; shipping: ImageShipping }> {
  const { network, yard, log } = o;
  const images = engineImageHost(yard.engine);
  const shipping = new ImageShipping({ host: images, config: o.images, iconImages: () => iconImages(yard, images), log: log.child("images") });
  await shipping.open();
  const quota = new QuotaLedger({
    quotas: o.quotas,
    holdings: () => yard.records().map(holdingOf).filter((h): h is Holding => !!h),
    imageSize: async (id) => (await yard.engine.inspectImage(id))?.size,
  });
  const pull = o.registry ? (image: ImageRef) => pullFromRegistry(yard.engine, o.registry!, image) : undefined;
  const target = new ReplicateTarget({ nodeId: network.nodeId, network, yard: o.ready, images, shipping, admission: o.admission, quota, pull, log });
  const source = new ReplicateSource({ nodeId: network.nodeId, network, yard, findCloser: o.findCloser, images, layers: shipping.source, log, prefetchAfter: o.prefetchAfter, history: o.history, onRefused: o.onRefused });
  network.handle(OP.replicate, target.replicate);
  network.handle(OP_LAYERS, shipping.source.serve);
  network.handle(OP.message, source.message);
  network.onMessage(OP.status, source.status);
  network.onMessage(OP.offer, target.offer);
  target.watch(yard);
  yard.setServices(source);
  // Root ICONs' images are saved and split as soon as they run, so a cold replicate does not wait for `docker save`.
  yard.events.on("state", (ev) => {
    const rec = ev.state === "RUNNING" ? yard.record(ev.name) : undefined;
    if (rec?.role === "root") shipping.source.prepare(rec.image).catch((e) => log.warn("could not prepare the image for shipping", { image: rec.image, error: e as Error }));
  });
  return { source, target, shipping };
}
