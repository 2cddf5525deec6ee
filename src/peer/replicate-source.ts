/**
 * The source's side of a replicate (thesis figure 3.4): the services an ICON reaches through its
 * runtime socket (yard services.ts) backed by the topology (findCloser) and the peer protocol
 * (replicate, messages); replicate-target.ts is the other node's side.
 * Policy lives here: minimum RTT gain, maximum replicas, budget against announced prices, prefetch.
 */
import { familyOf } from "../util/ipv6.ts";
import { IconError, isIconError, type ErrorCode } from "../errors.ts";
import type { ImageHost } from "../images/host.ts";
import type { LayerSource } from "../images/source.ts";
import type { Logger } from "../log.ts";
import type { Candidate, ReplicaStatus, ReplicaTarget, ReplicateOptions } from "../yard/protocol.ts";
import type { IconRef, IconServices } from "../yard/services.ts";
import type { IconRecord } from "../yard/types.ts";
import type { Yard } from "../yard/yard.ts";
import { Children } from "./children.ts";
import type { MigrationHistory, MigrationRecord } from "./history.ts";
import { checkReplicaEndpoint, onNodeAddress } from "./replica-endpoint.ts";
import type { PeerConnection } from "./connection.ts";
import type { PeerEndpoint, PeerNetwork } from "./network.ts";
import { OP, checkMessage, checkStatus, parseReplicaId, replicaId, replicaName, type ImageRef, type MessageBody, type OfferBody, type ReplicateBody, type ReplicateResult } from "./ops.ts";

/**
 * Bytes of config and compressed layers that may ride along with a replicate request. Small on purpose:
 * what fits TCP's initial window (10 segments of 1448 bytes, less the request's JSON) arrives in one
 * trip; more would need a second trip anyway, which is what asking for the layers costs.
 */
const INLINE_BUDGET = 13 * 1024;

/** What a target answers when it runs nothing for a request: the client stays with this ICON. */
const REFUSALS: ErrorCode[] = ["NOT_ADMITTED", "QUOTA", "UNAUTHORIZED", "INVALID_INPUT"];

export interface ReplicateSourceDeps {
  nodeId: string;
  network: PeerNetwork;
  yard: Yard;
  findCloser: (client: string) => Promise<Candidate[]>;
  images: ImageHost;
  /** Saved images, for the layers that ride along with a replicate request. */
  layers: LayerSource;
  log: Logger;
  /** Offer an ICON's image to a node after it was a candidate this many times (0: never). */
  prefetchAfter: number;
  replicateTimeoutMs?: number;
  /** Where each replicate this node makes is recorded (dashboard, metrics). */
  history?: MigrationHistory;
  /** Told of each replicate refused by the ICON's policy (maxReplicas, budget), for the metrics. */
  onRefused?: (reason: string) => void;
}

export class ReplicateSource implements IconServices {
  readonly children = new Children();
  /** Where candidates said they are, and what they charge: a replicate target may name only a node id. */
  private readonly seen = new Map<string, { endpoint: PeerEndpoint; price: number }>();
  private readonly candidateCounts = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<ReplicateResult>>();
  /** Replicates without state per replica, whose follow-up with the client's state is a handover. */
  private readonly awaitingState = new Map<string, number>();

  constructor(private readonly d: ReplicateSourceDeps) {
    // What a node said about its replicas holds while we are connected to it, and until it restarts.
    d.network.onConnect((c) => c.onClose(() => d.network.connection(c.nodeId) || this.children.forgetNode(c.nodeId)));
    d.network.onPeerRestart((nodeId) => this.children.forgetNode(nodeId));
  }

  private record(icon: IconRef) {
    const rec = this.d.yard.record(icon.name);
    if (!rec) throw new IconError("NOT_FOUND", `ICON ${icon.name} is gone`);
    return rec;
  }

  async findCloser(icon: IconRef, client: string): Promise<Candidate[]> {
    const policy = this.record(icon).policy;
    const spent = this.children.spending(icon.name);
    const all = await this.d.findCloser(client);
    const fit = all.filter((c) => {
      if (c.nodeId === this.d.nodeId) return false;
      const gain = c.ownRttMs === undefined ? Infinity : c.ownRttMs - c.rttMs;
      if (policy.minRttGainMs !== undefined && gain < policy.minRttGainMs) return false;
      if (policy.budget !== undefined && spent + (c.price ?? 0) > policy.budget) return false;
      return true;
    });
    for (const c of all) this.seen.set(c.nodeId, { endpoint: { nodeId: c.nodeId, address: c.address, port: c.peerPort }, price: c.price ?? 0 });
    this.countForPrefetch(icon, fit);
    return fit;
  }

  /** Prefetch: a node that keeps being a candidate gets the image before it is needed. */
  private countForPrefetch(icon: IconRef, candidates: Candidate[]): void {
    const after = this.d.prefetchAfter;
    const rec = this.d.yard.record(icon.name);
    if (!after || !rec || rec.policy.prefetch === false) return;
    const c = candidates[0]; // only the best candidate is counted
    if (!c) return;
    const key = `${icon.name}|${c.nodeId}`;
    const n = (this.candidateCounts.get(key) ?? 0) + 1;
    this.candidateCounts.set(key, n);
    const manifest = rec.manifest;
    if (n !== after || !manifest || this.children.get(replicaId(c.nodeId, replicaName(icon.name, this.d.nodeId)))) return;
    void this.imageRef(rec.image)
      .then(async (image) => (await this.d.network.connect({ nodeId: c.nodeId, address: c.address, port: c.peerPort })).notify(OP.offer, { icon: icon.name, image, manifest } satisfies OfferBody))
      .then(() => this.d.log.info("offered an image for prefetch", { icon: icon.name, to: c.nodeId.slice(0, 8) }), (e) => {
        // Counted again from zero: a node that was down gets the offer after `after` more candidacies.
        this.candidateCounts.delete(key);
        this.d.log.debug("prefetch offer failed", { error: e as Error });
      });
  }

  private async imageRef(ref: string): Promise<ImageRef> {
    const meta = await this.d.images.inspectImage(ref);
    if (!meta) throw new IconError("NOT_FOUND", `image ${ref} is not on this node any more`, "Rebuild or reload the ICON's image.");
    return { ref, id: meta.id, diffIds: meta.diffIds };
  }

  private endpoint(target: ReplicaTarget): PeerEndpoint {
    if (target.address && target.peerPort) return { nodeId: target.nodeId, address: target.address, port: target.peerPort };
    const known = this.seen.get(target.nodeId)?.endpoint ?? this.d.network.endpointOf(target.nodeId);
    if (!known) throw new IconError("NOT_FOUND", `node ${target.nodeId.slice(0, 8)} is unknown here`, "Pass a candidate from findCloser (it carries the node's address and peer port).");
    return known;
  }

  async replicate(icon: IconRef, target: ReplicaTarget, options: ReplicateOptions, onStatus: (s: ReplicaStatus) => void): Promise<{ replica: string }> {
    if (typeof target?.nodeId !== "string" || !/^[0-9a-f]{40}$/.test(target.nodeId)) throw new IconError("INVALID_INPUT", "replicate: target.nodeId must be a node id (40 hex digits)");
    if (target.nodeId === this.d.nodeId) throw new IconError("INVALID_INPUT", "replicate: the target is this node itself");
    const rec = this.record(icon);
    const id = replicaId(target.nodeId, replicaName(icon.name, this.d.nodeId));
    const known = this.children.get(id);

    // Direct: the replica runs and its node is connected. The state goes ahead of the client, on the
    // open connection, and arrives long before the client has connected there.
    const conn = this.d.network.connection(target.nodeId);
    const handover = this.isHandover(id, options);
    const startedAt = new Date().toISOString();
    const record = (m: Pick<MigrationRecord, "mode" | "ok" | "ms" | "bytes" | "endpoint" | "error">) =>
      handover || this.d.history?.add({ icon: icon.name, replica: id, target: target.nodeId, startedAt, ...m });
    // ...and runs at an address of the family the caller reaches the node by (an IPv6 client's replicate
    // names the node's IPv6 address): else the request below asks the node to name it at that one.
    const sameFamily = !target.address || familyOf(target.address) === familyOf(known?.endpoint?.address ?? "");
    // At debug, which way each replicate went, by replica id (the ICON's runtime log has its request ids).
    const trace = (path: string) => this.d.log.debug("replicate asked", { icon: icon.name, replica: id, path, handover, state: options.state !== undefined });
    if (known?.state === "running" && known.endpoint && conn && sameFamily) {
      trace("direct");
      if (options.state !== undefined) this.handOver(conn, id, options.state);
      const endpoint = known.endpoint;
      record({ mode: "direct", ok: true, endpoint, ms: { total: 0 }, bytes: 0 });
      queueMicrotask(() => onStatus({ replica: id, target: target.nodeId, state: "running", endpoint, mode: "direct" }));
      return { replica: id };
    }

    const price = this.seen.get(target.nodeId)?.price ?? 0;
    const asked = performance.now();
    // One request per replica at a time: a second client's replicate joins the first (checked and set
    // before any await, so two calls cannot both start one).
    let run = this.inflight.get(id);
    const first = !run;
    if (!run) {
      const policy = rec.policy;
      const refuse = (reason: string, e: IconError) => {
        this.d.onRefused?.(reason);
        return e;
      };
      if (policy.maxReplicas !== undefined && !rec.children.includes(id) && rec.children.length >= policy.maxReplicas)
        throw refuse("maxReplicas", new IconError("CONFLICT", `ICON ${icon.name} already has ${rec.children.length} replicas (policy maxReplicas ${policy.maxReplicas})`, "Raise maxReplicas with icon.policy(), or let idle replicas stop first."));
      if (policy.budget !== undefined && this.children.spending(icon.name) + price > policy.budget)
        throw refuse("budget", new IconError("CONFLICT", `a replica on ${target.nodeId.slice(0, 8)} (price ${price}) would exceed ICON ${icon.name}'s budget ${policy.budget}`, "Choose a cheaper candidate or raise the budget."));
      trace(known ? `new run (was ${known.state}${conn ? "" : ", not connected"})` : "new run");
      run = this.request(rec, id, this.endpoint(target), options.state).finally(() => this.inflight.delete(id));
      this.inflight.set(id, run);
    } else {
      trace("joins the run in flight");
      // Another client asked for the same replica a moment ago: its state follows once it runs.
      if (options.state !== undefined)
        void run.then((r) => {
          const c = this.d.network.connection(target.nodeId);
          if (c) this.handOver(c, r.replica, options.state);
        }, () => {});
    }
    run.then(
      (r) => {
        this.children.set(id, { icon: icon.name, state: "running", endpoint: r.endpoint, price });
        this.d.log.info("replica running", { icon: icon.name, on: target.nodeId.slice(0, 8), mode: r.mode, ms: r.ms.total, bytes: r.transferredBytes });
        const timings = { replicateMs: Math.round(performance.now() - asked), imageMs: r.ms.image, startMs: r.ms.start, targetMs: r.ms.total, bytes: r.transferredBytes, ...(r.ms.engine !== undefined ? { engineMs: r.ms.engine } : {}) };
        // A second client joining a replicate in flight is not a second migration.
        if (first) record({ mode: r.mode, ok: true, endpoint: r.endpoint, ms: { total: timings.replicateMs, image: r.ms.image, start: r.ms.start, target: r.ms.total }, bytes: r.transferredBytes });
        onStatus({ replica: id, target: target.nodeId, state: "running", endpoint: r.endpoint, mode: r.mode, timings });
      },
      (e: Error) => {
        this.d.log.warn("replicate failed", { icon: icon.name, on: target.nodeId.slice(0, 8), error: e });
        if (first) record({ mode: "unknown", ok: false, error: e.message, ms: { total: Math.round(performance.now() - asked) }, bytes: 0 });
        onStatus({ replica: id, target: target.nodeId, state: "failed", reason: e.message, ...(e instanceof IconError ? { code: e.code } : {}) });
      },
    );
    return { replica: id };
  }

  /**
   * Whether this replicate only hands a client's state over. An ICON may replicate as soon as a client
   * connects, without state, and again with the client's state once the replica runs
   * (examples/migrate-app): one migration, recorded once. A replicate with state that follows none
   * without is a migration of its own.
   */
  private isHandover(id: string, options: ReplicateOptions): boolean {
    const early = this.awaitingState.get(id) ?? 0;
    if (options.state === undefined) {
      this.awaitingState.set(id, Math.min(early + 1, 64)); // bounded: clients that left never follow up
      return false;
    }
    if (!early) return false;
    if (early === 1) this.awaitingState.delete(id);
    else this.awaitingState.set(id, early - 1);
    return true;
  }

  /** Sends a client's state to a running replica, without waiting: it travels ahead of the client. */
  private handOver(conn: PeerConnection, replica: string, state: unknown): void {
    conn.request(OP.message, { to: parseReplicaId(replica)!.name, from: "parent", data: state } satisfies MessageBody)
      .catch((e) => this.d.log.warn("could not hand a client's state to its replica", { replica, error: e as Error }));
  }

  /** Sends the replicate request for a new run of replica `id`. */
  private async request(rec: IconRecord, id: string, endpoint: PeerEndpoint, state: unknown): Promise<ReplicateResult> {
    const { manifest } = rec;
    if (!manifest) throw new IconError("FAILED", `ICON ${rec.name} has no owner manifest (a replica made by an older node), so no node would run a replica of it`, `Remove it ("icon rm ${rec.name}"); its parent makes a new one when needed.`);
    const image = await this.imageRef(rec.image);
    if (image.id !== manifest.imageId)
      throw new IconError("FAILED", `the image ${rec.image} of ICON ${rec.name} is no longer the image its owner signed`, `Run the ICON again ("icon rm ${rec.name}", then "icon run") so that its owner signs the new image.`);
    const known = rec.children.includes(id);
    if (!known) await this.d.yard.updateChildren(rec.name, (c) => [...c, id]);
    // A target that never ran this replica probably lacks the application layers: send the small top
    // layers along, and spare it the round trip of asking for them (DESIGN.md: hide behind round trips).
    const inline = known ? undefined : await this.d.layers.inline(image.id, INLINE_BUDGET).catch(() => undefined);
    const body: ReplicateBody = { icon: rec.name, image, env: rec.env, manifest, state, at: endpoint.address, ...(inline ? { inline: inline.image } : {}) };
    const conn = await this.d.network.connect(endpoint);
    try {
      const r = await conn.request<ReplicateResult>(OP.replicate, body, { timeoutMs: this.d.replicateTimeoutMs ?? 120_000, attachment: inline?.bytes });
      checkReplicaEndpoint(r.endpoint, [endpoint.address, conn.remoteIp], endpoint.nodeId);
      return r;
    } catch (e) {
      // Refused before anything was made there: it is no child of this ICON, and takes no maxReplicas slot.
      if (!known && REFUSALS.some((code) => isIconError(e, code))) await this.d.yard.updateChildren(rec.name, (c) => c.filter((x) => x !== id)).catch(() => {});
      throw e;
    }
  }

  async sendToParent(icon: IconRef, data: unknown): Promise<boolean> {
    const rec = this.record(icon);
    if (!rec.parent) throw new IconError("NOT_FOUND", `ICON ${icon.name} is a root ICON: it has no parent`);
    const conn = await this.d.network.reach(rec.parent.nodeId);
    if (!conn) throw new IconError("UNREACHABLE", `the parent's node ${rec.parent.nodeId.slice(0, 8)} is not connected and its address is unknown`);
    const body: MessageBody = { to: rec.parent.icon, from: "child", child: replicaId(this.d.nodeId, icon.name), data };
    return (await conn.request<{ delivered: boolean }>(OP.message, body)).delivered;
  }

  async sendToChildren(icon: IconRef, data: unknown): Promise<number> {
    const rec = this.record(icon);
    const sent = await Promise.all(
      rec.children.map(async (id) => {
        const child = parseReplicaId(id);
        if (!child) return false;
        try {
          const conn = await this.d.network.reach(child.nodeId);
          if (!conn) return false;
          return (await conn.request<{ delivered: boolean }>(OP.message, { to: child.name, from: "parent", data } satisfies MessageBody)).delivered;
        } catch {
          return false;
        }
      }),
    );
    return sent.filter(Boolean).length;
  }

  /**
   * Peer handler for OP.message. A node may speak for an ICON only as that ICON's parent node, or as
   * the node of one of its recorded children.
   */
  message = async (body: unknown, ctx: { peer: PeerConnection }): Promise<{ delivered: boolean }> => {
    const m = checkMessage(body);
    const rec = this.d.yard.record(m.to);
    if (!rec) throw new IconError("NOT_FOUND", `no ICON ${m.to} on this node`);
    const from = ctx.peer.nodeId;
    const allowed = m.from === "parent" ? rec.parent?.nodeId === from : !!m.child && parseReplicaId(m.child)?.nodeId === from && rec.children.includes(m.child);
    if (!allowed) throw new IconError("UNAUTHORIZED", `node ${from.slice(0, 8)} is not the ${m.from} of ICON ${m.to}`);
    return { delivered: this.d.yard.deliver(m.to, { from: m.from, child: m.child, data: m.data }) };
  };

  /** Peer message OP.status from a replica's node: a node reports only replicas it runs. */
  status = (body: unknown, peer: PeerConnection): void => {
    const s = checkStatus(body);
    if (!s || parseReplicaId(s.replica)?.nodeId !== peer.nodeId) return;
    const rec = this.d.yard.record(s.icon);
    if (!rec?.children.includes(s.replica)) return;
    // While a replicate of this replica is in flight its answer decides: what the run it replaces says
    // meanwhile (stopped, or removed to make way for a new image) is stale, and must not undo the new one.
    if (this.inflight.has(s.replica)) return;
    if (s.state === "removed") {
      this.children.delete(s.replica);
      void this.d.yard.updateChildren(s.icon, (c) => c.filter((id) => id !== s.replica));
      this.d.yard.replicaStatus(s.icon, { replica: s.replica, target: peer.nodeId, state: "stopped" });
      return;
    }
    const at = this.seen.get(peer.nodeId)?.endpoint ?? this.d.network.endpointOf(peer.nodeId);
    if (s.state === "running" && !onNodeAddress(s.endpoint, [at?.address, peer.remoteIp])) return;
    const known = this.children.get(s.replica);
    // The replicate answer told the ICON (with the mode); the same news by status message is not repeated.
    const sameRun = known?.state === "running" && known.endpoint?.address === s.endpoint?.address && known.endpoint?.port === s.endpoint?.port;
    if (s.state === "running" && sameRun) return;
    const price = known?.price ?? this.seen.get(peer.nodeId)?.price ?? 0;
    this.children.set(s.replica, { icon: s.icon, state: s.state, endpoint: s.endpoint, price });
    const status: ReplicaStatus =
      s.state === "running" ? { replica: s.replica, target: peer.nodeId, state: "running", endpoint: s.endpoint! }
      : s.state === "failed" ? { replica: s.replica, target: peer.nodeId, state: "failed", reason: s.reason ?? "failed" }
      : { replica: s.replica, target: peer.nodeId, state: "stopped" };
    this.d.yard.replicaStatus(s.icon, status);
  };
}
