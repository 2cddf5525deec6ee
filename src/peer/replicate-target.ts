/**
 * The target's side of a replicate (thesis figure 3.4): run a replica of another node's ICON here.
 * What it does follows from what it holds (replica-plan.ts): a replica that runs is answered at once
 * (direct); a stopped one is restarted (hot); otherwise a new replica is created, after fetching from
 * the source only the layers missing here (cold). The replica's later state changes are reported to
 * its parent's node. replicate-source.ts is the other side.
 */
import { IconError } from "../errors.ts";
import type { ImageHost } from "../images/host.ts";
import type { ImageShipping } from "../images/images.ts";
import type { Logger } from "../log.ts";
import type { StateEvent } from "../yard/state.ts";
import type { Yard } from "../yard/yard.ts";
import type { PeerConnection, RequestContext } from "./connection.ts";
import type { PeerNetwork } from "./network.ts";
import { OP, checkImageRef, checkReplicate, replicaId, replicaName, type ImageRef, type ReplicateResult, type StatusBody } from "./ops.ts";
import { planReplica, type TargetHoldings } from "./replica-plan.ts";

export interface ReplicateTargetDeps {
  nodeId: string;
  network: PeerNetwork;
  yard: () => Promise<Yard>;
  images: ImageHost;
  shipping: ImageShipping;
  log: Logger;
}

export class ReplicateTarget {
  private readonly inflight = new Map<string, Promise<ReplicateResult>>();
  private readonly fetching = new Set<string>();

  constructor(private readonly d: ReplicateTargetDeps) {}

  /** Peer handler for OP.replicate. Two requests for the same replica share one start. */
  replicate = async (body: unknown, ctx: RequestContext): Promise<ReplicateResult> => {
    const req = checkReplicate(body);
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

  private async run(name: string, req: ReturnType<typeof checkReplicate>, ctx: RequestContext): Promise<ReplicateResult> {
    const t0 = performance.now();
    const yard = await this.d.yard();
    const parent = { nodeId: ctx.peer.nodeId, icon: req.icon };
    const rec = yard.record(name);
    if (rec && rec.parent?.nodeId !== parent.nodeId) throw new IconError("CONFLICT", `replica name ${name} is taken by another ICON on this node`);
    const plan = planReplica(req.image, await this.holdings(yard, name, req.image));
    let transferredBytes = 0;
    let imageMs = 0;
    const t1 = performance.now();
    if (plan.mode === "direct" || plan.mode === "hot") {
      ctx.emit({ type: "replica.starting", mode: plan.mode });
      if (plan.mode === "hot") await yard.start(name);
      if (req.state !== undefined) yard.deliver(name, { from: "parent", data: req.state });
    } else {
      if (plan.replace) {
        this.d.log.info("replacing a replica that runs an older image", { name });
        await yard.remove(name, { force: true });
      }
      if (plan.mode === "cold") {
        const inline = req.inline && ctx.attachment ? { image: req.inline, bytes: ctx.attachment } : undefined;
        transferredBytes = await this.d.shipping.fetchLayers(ctx.peer, req.image, plan.held, (e) => {
          ctx.emit(e);
          if (e.type === "image.loaded") this.d.log.info("image loaded", { image: req.image.ref, layers: e.layers, bytes: e.bytes, ms: e.ms, loadMs: e.loadMs, askedSource: e.asked });
        }, inline);
        imageMs = performance.now() - t1;
      }
      ctx.emit({ type: "replica.starting", mode: plan.mode });
      // By id: the only name a peer's image has here is icon.local/peer:<id>, whatever the peer called it.
      await yard.createReplica({ image: req.image.id, name, env: req.env, parent, initialState: req.state, policy: req.policy });
    }
    const view = yard.get(name);
    if (view?.state !== "RUNNING") throw new IconError("FAILED", `replica ${name} is ${view?.state ?? "gone"}${view?.reason ? `: ${view.reason}` : ""}`);
    const total = performance.now() - t0;
    this.d.log.info("replica running", { name, mode: plan.mode, port: view.port, ms: Math.round(total), bytes: transferredBytes });
    return {
      replica: replicaId(this.d.nodeId, name),
      endpoint: { address: view.address, port: view.port },
      mode: plan.mode,
      transferredBytes,
      ms: { image: Math.round(imageMs), start: Math.round(performance.now() - t1 - imageMs), total: Math.round(total) },
    };
  }

  /** Peer message OP.offer (prefetch): fetch the image in the background if it is not here yet. */
  offer = (body: unknown, peer: PeerConnection): void => {
    let image: ImageRef;
    try {
      image = checkImageRef((body as { image?: unknown })?.image);
    } catch {
      return;
    }
    if (this.fetching.has(image.id) || this.fetching.size >= 2) return;
    this.fetching.add(image.id);
    void (async () => {
      const bytes = await this.d.shipping.fetchImage(peer, image);
      if (bytes) this.d.log.info("prefetched an image offered by a peer", { image: image.ref, bytes, from: peer.nodeId.slice(0, 8) });
    })()
      .catch((e) => this.d.log.warn("prefetch failed", { image: image.ref, error: e as Error }))
      .finally(() => this.fetching.delete(image.id));
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
      const state = ev.state === "RUNNING" ? "running" : ev.state === "STOPPED" ? "stopped" : ev.state === "FAILED" ? "failed" : undefined;
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
