/**
 * The target's side of a replicate (thesis figure 3.4): run a replica of another node's ICON here.
 * What it does follows from what it holds (replica-plan.ts): a replica that runs is answered at once
 * (direct); a stopped one is restarted (hot); otherwise a new replica is created, after fetching from
 * the source only the layers missing here (cold). The replica's later state changes are reported to
 * its parent's node. replicate-source.ts is the other side.
 *
 * Before any of it the request is judged by its owner: the manifest must be signed by the owner and name
 * exactly the image and env asked for, the owner must be admitted here (admission.ts), and a new
 * replica must fit the quotas of its owner, of the requesting node and of the node (quota.ts).
 */
import { IconError, isIconError } from "../errors.ts";
import type { ImageHost } from "../images/host.ts";
import type { ImageShipping } from "../images/images.ts";
import type { Logger } from "../log.ts";
import type { StateEvent } from "../yard/state.ts";
import { checkAgainstManifest } from "../yard/manifest.ts";
import type { IconRecord } from "../yard/types.ts";
import type { Yard } from "../yard/yard.ts";
import type { Admission } from "./admission.ts";
import type { PeerConnection, RequestContext } from "./connection.ts";
import type { PeerNetwork } from "./network.ts";
import { OP, checkOffer, checkReplicate, replicaId, replicaName, type ImageRef, type ReplicateBody, type ReplicateResult, type StatusBody } from "./ops.ts";
import type { Holding, QuotaLedger } from "./quota.ts";
import { planReplica, type TargetHoldings } from "./replica-plan.ts";

export interface ReplicateTargetDeps {
  nodeId: string;
  network: PeerNetwork;
  yard: () => Promise<Yard>;
  images: ImageHost;
  admission: Admission;
  quota: QuotaLedger;
  shipping: ImageShipping;
  /** Pulls the image from a registry instead of from the source (config registry: IPO's way, for comparison). */
  pull?: (image: ImageRef) => Promise<number>;
  log: Logger;
}

/** A replica's share of the quotas, from its record. */
export function holdingOf(rec: Readonly<IconRecord>): Holding | undefined {
  if (rec.role !== "replica" || !rec.parent) return undefined;
  return { name: rec.name, owner: rec.manifest?.owner ?? "", requester: rec.parent.nodeId, imageId: rec.manifest?.imageId ?? rec.image, memoryBytes: rec.limits.memoryBytes, cpus: rec.limits.cpus };
}

export class ReplicateTarget {
  private readonly inflight = new Map<string, Promise<ReplicateResult>>();
  /** Prefetches in flight, by image id. */
  private readonly fetching = new Map<string, Promise<void>>();
  /** Requests refused for a manifest that was forged or did not match them, since start. */
  private refusedManifests = 0;

  constructor(private readonly d: ReplicateTargetDeps) {}

  /** The request, if its manifest holds and its owner is admitted here; throws (and counts) otherwise. */
  private admit(body: unknown): ReplicateBody {
    let req: ReplicateBody;
    try {
      req = checkReplicate(body);
      checkAgainstManifest(req.manifest, req.image.id, req.env);
    } catch (e) {
      if (isIconError(e, "UNAUTHORIZED")) this.refusedManifests++;
      throw e;
    }
    this.d.admission.check(req.manifest.owner);
    return req;
  }

  /** Refusals since start, by reason; the quotas under the names of their settings. */
  refused() {
    const q = this.d.quota.refused;
    return { notAdmitted: this.d.admission.refused, manifest: this.refusedManifests, quotaPerOwner: q.perOwner, quotaPerPeer: q.perPeer, quotaTotal: q.total };
  }

  /** The address the source dialed (ReplicateBody.at), when it is this node's own of either family. */
  private reachedAt(at: string | undefined): string | undefined {
    return at !== undefined && (at === this.d.network.ownAddress(4) || at === this.d.network.ownAddress(6)) ? at : undefined;
  }

  /** Peer handler for OP.replicate. Two requests for the same replica share one start. */
  replicate = async (body: unknown, ctx: RequestContext): Promise<ReplicateResult> => {
    const req = this.admit(body);
    const name = replicaName(req.icon, ctx.peer.nodeId);
    let run = this.inflight.get(name);
    if (!run) {
      run = this.run(name, req, ctx).finally(() => this.inflight.delete(name));
      this.inflight.set(name, run);
    } else if (req.state !== undefined) {
      // The first request carries its own state; a second client's state goes as a message.
      void run.then(async () => (await this.d.yard()).deliver(name, { from: "parent", data: req.state }), () => {});
    }
    return run;
  };

  /** What this node holds for the replica `name` of `image`: the input of planReplica. */
  private async holdings(yard: Yard, name: string, image: ImageRef): Promise<TargetHoldings> {
    const rec = yard.record(name);
    const replica = rec && { state: yard.get(name)!.state, imageId: (await this.d.images.inspectImage(rec.image))?.id };
    if (replica?.imageId === image.id) return { replica, imageHeld: true, chains: [] };
    const imageHeld = !!(await this.d.images.inspectImage(image.id));
    // The chains are read only when the image must come (cold): a direct replicate asks Docker nothing more.
    return { replica, imageHeld, chains: imageHeld ? [] : await this.d.images.layerChains() };
  }

  private async run(name: string, req: ReplicateBody, ctx: RequestContext): Promise<ReplicateResult> {
    const t0 = performance.now();
    const yard = await this.d.yard();
    const parent = { nodeId: ctx.peer.nodeId, icon: req.icon };
    const rec = yard.record(name);
    if (rec && (rec.parent?.nodeId !== parent.nodeId || rec.parent.icon !== parent.icon || rec.manifest?.owner !== req.manifest.owner))
      throw new IconError("CONFLICT", `replica name ${name} is taken by another ICON on this node`);
    // A prefetch of this image in flight: the replica waits for it rather than fetch the same bytes again.
    await this.fetching.get(req.image.id);
    const plan = planReplica(req.image, await this.holdings(yard, name, req.image));
    if (plan.mode === "cold" && this.d.pull) plan.mode = "registry";
    let transferredBytes = 0;
    let imageMs = 0;
    let engineMs: number | undefined;
    const t1 = performance.now();
    if (plan.mode === "direct" || plan.mode === "warm" || plan.mode === "hot") {
      ctx.emit({ type: "replica.starting", mode: plan.mode });
      if (plan.mode !== "direct") await yard.start(name);
      if (req.state !== undefined) yard.deliver(name, { from: "parent", data: req.state });
    } else {
      // A new replica: its share is reserved before any byte is fetched, and again with its image's real size.
      const share: Holding = { name, owner: req.manifest.owner, requester: parent.nodeId, imageId: req.image.id, ...yard.replicaLimits() };
      const replacing = (h: Holding) => h.name === name;
      let release: (() => void) | undefined = await this.d.quota.reserve(share, replacing);
      try {
        if (plan.replace) {
          this.d.log.info("replacing a replica that runs an older image", { name });
          await yard.remove(name, { force: true });
        }
        if (plan.mode === "cold" || plan.mode === "registry") {
          const inline = req.inline && ctx.attachment ? { image: req.inline, bytes: ctx.attachment } : undefined;
          transferredBytes = plan.mode === "registry" ? await this.d.pull!(req.image) : await this.d.shipping.fetchLayers(ctx.peer, req.image, plan.held, (e) => {
            ctx.emit(e);
            if (e.type !== "image.loaded") return;
            engineMs = e.afterVerifiedMs;
            this.d.log.info("image loaded", { image: req.image.ref, layers: e.layers, bytes: e.bytes, ms: e.ms, receivedMs: e.receivedMs, verifiedMs: e.verifiedMs, afterVerifiedMs: e.afterVerifiedMs, askedSource: e.asked });
          }, inline);
          imageMs = performance.now() - t1;
          release();
          release = await this.d.quota.reserve(share, replacing);
        }
        ctx.emit({ type: "replica.starting", mode: plan.mode });
        // Once its record exists (its first state) the replica counts as a holding, no longer as a reservation.
        const started = () => (release?.(), (release = undefined));
        // By id: the only name a peer's image has here is icon.local/peer:<id>, whatever the peer called it.
        await yard.createReplica({ image: req.image.id, name, env: req.env, parent, initialState: req.state, manifest: req.manifest }, started);
      } finally {
        release?.();
      }
    }
    const view = yard.get(name);
    if (view?.state !== "RUNNING") throw new IconError("FAILED", `replica ${name} is ${view?.state ?? "gone"}${view?.reason ? `: ${view.reason}` : ""}`);
    const total = performance.now() - t0;
    this.d.log.info("replica running", { name, mode: plan.mode, port: view.port, ms: Math.round(total), bytes: transferredBytes });
    return {
      replica: replicaId(this.d.nodeId, name),
      endpoint: { address: this.reachedAt(req.at) ?? view.address, port: view.port },
      mode: plan.mode,
      transferredBytes,
      ms: { image: Math.round(imageMs), start: Math.round(performance.now() - t1 - imageMs), total: Math.round(total), ...(engineMs !== undefined ? { engine: engineMs } : {}) },
    };
  }

  /** Peer message OP.offer (prefetch): fetch the image in the background if it is not here yet. */
  offer = (body: unknown, peer: PeerConnection): void => {
    let image: ImageRef;
    try {
      const offer = checkOffer(body);
      if (offer.image.id !== offer.manifest.imageId || !this.d.admission.admits(offer.manifest.owner)) return;
      image = offer.image;
    } catch {
      return;
    }
    if (this.fetching.has(image.id) || this.fetching.size >= 2) return;
    const fetch = (async () => {
      const bytes = await this.d.shipping.fetchImage(peer, image);
      if (bytes) this.d.log.info("prefetched an image offered by a peer", { image: image.ref, bytes, from: peer.nodeId.slice(0, 8) });
    })()
      .catch((e) => this.d.log.warn("prefetch failed", { image: image.ref, error: e as Error }))
      .finally(() => this.fetching.delete(image.id));
    this.fetching.set(image.id, fetch);
  };

  /** Reports a replica's transitions (and removal) to its parent's node (best effort). */
  watch(yard: Yard): void {
    const parents = new Map<string, { nodeId: string; icon: string }>();
    for (const v of yard.list(true)) {
      const parent = yard.record(v.name)?.parent;
      if (parent) parents.set(v.name, parent);
    }
    const report = (parent: { nodeId: string; icon: string }, body: StatusBody) => {
      const conn = this.d.network.connection(parent.nodeId);
      if (conn) return void conn.notify(OP.status, body);
      const ep = this.d.network.endpointOf(parent.nodeId);
      if (ep) this.d.network.connect(ep).then((c) => c.notify(OP.status, body), () => {});
    };
    yard.events.on("state", (ev: StateEvent) => {
      // A paused replica serves nobody until a replicate thaws it: for its parent it is stopped (no direct hand-over).
      const state = ev.state === "RUNNING" ? "running" : ev.state === "STOPPED" || ev.state === "PAUSED" ? "stopped" : ev.state === "FAILED" ? "failed" : undefined;
      if (!state) return;
      const rec = yard.record(ev.name);
      if (rec?.role !== "replica" || !rec.parent) return;
      parents.set(ev.name, rec.parent);
      const body: StatusBody = { icon: rec.parent.icon, replica: replicaId(this.d.nodeId, ev.name), state };
      if (state === "running" && ev.address && ev.port) body.endpoint = { address: ev.address, port: ev.port };
      if (ev.reason) body.reason = ev.reason;
      report(rec.parent, body);
    });
    yard.events.on("removed", ({ name }) => {
      const parent = parents.get(name);
      parents.delete(name);
      if (parent) report(parent, { icon: parent.icon, replica: replicaId(this.d.nodeId, name), state: "removed" });
    });
  }
}
