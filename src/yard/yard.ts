/**
 * The container yard (thesis 3.1.2): the ICONs of one node on Docker. It owns the records, the state
 * machine's events and the runtime sockets; lifecycle.ts moves single ICONs, reconcile.ts plans what a
 * restarted node does with the containers it finds. The peer protocol uses createReplica,
 * start, stop, remove, deliver, updateChildren and the events; it plugs its services in with
 * setServices.
 */
import { MAX_LINE_BYTES, type ReplicaStatus } from "./protocol.ts";
import type { Config } from "../config/schema.ts";
import { IconError, isIconError } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import { realClock, type Clock, type TimerHandle } from "../util/clock.ts";
import { LABELS, parseBytes } from "./container-spec.ts";
import type { ContainerEngine, LogLine } from "../engine/container-engine.ts";
import { publishedNetwork, type IconNetwork } from "../engine/icon-network.ts";
import { IconEntry, type EntryHost } from "./entry.ts";
import { Emitter, type YardEvents } from "./events.ts";
import { Lifecycle } from "./lifecycle.ts";
import { signManifest } from "./manifest.ts";
import { imageMissing, nameFromImage, newRecord } from "./new-record.ts";
import { PortAllocator, parseRange, portFree } from "./ports.ts";
import { planReconcile } from "./reconcile.ts";
import { DEFAULT_PAUSED_SEC, idleActions } from "./idle.ts";
import { unavailableServices, type IconServices } from "./services.ts";
import { ACTIVE, type StateEvent } from "./state.ts";
import { checkName, IconStore } from "./store.ts";
import type { IconRecord, IconView, ReplicaRequest, RunRequest } from "./types.ts";
import { iconUser } from "./user.ts";

export type YardConfig = Pick<Config, "dataDir" | "listen" | "portRange" | "networkContainer" | "iconMemory" | "iconCpus" | "iconPids" | "iconReadySec">;

export interface YardOptions {
  config: YardConfig;
  nodeId: string;
  /** The key that signs the manifests of the root ICONs run here (the node's); none: they get none and cannot replicate. */
  owner?: Identity;
  log: Logger;
  engine: ContainerEngine;
  /** How ICONs are networked. @default ports published by `engine` (an external engine) */
  network?: IconNetwork;
  /** Whether uid 0 in a container is another uid on the host (the node's own engine). @default false */
  userns?: boolean;
  /** Brings an image the engine lacks from the operator's engine, for `icon run` (never for a peer's replica). */
  importImage?: (ref: string) => Promise<unknown>;
  /** The node's advertised address: where clients reach its ICONs. */
  address: () => string;
  services?: IconServices;
  /** Checks a port is free (replaced in tests). */
  portFree?: (port: number) => Promise<boolean>;
  /** @default realClock */
  clock?: Clock;
}

/** The state reaches a replica inside the hello answer, one protocol line; 16 KiB are left for the rest of it. */
const MAX_INITIAL_STATE_BYTES = MAX_LINE_BYTES - 16 * 1024;

export function noSuchIcon(name: string): IconError {
  return new IconError("NOT_FOUND", `no ICON named "${name}" on this node`, 'See "icon ps --all" for the ICONs of this node.');
}

export class Yard {
  readonly events = new Emitter<YardEvents>();
  readonly engine: ContainerEngine;
  private readonly entries = new Map<string, IconEntry>();
  private readonly store: IconStore;
  private readonly life: Lifecycle;
  private readonly ports: PortAllocator;
  private readonly host: EntryHost;
  private readonly clock: Clock;
  private services: IconServices;
  private readonly network: IconNetwork;
  /** Images whose USER was root (in some spelling) and that run as another user instead. */
  private rootRemapped = 0;
  /** Serializes name and port allocation. */
  private creating: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: YardOptions) {
    this.engine = o.engine;
    this.clock = o.clock ?? realClock;
    this.services = o.services ?? unavailableServices;
    this.store = new IconStore(o.config.dataDir, o.log);
    this.network = o.network ?? publishedNetwork(o.engine, { networkContainer: o.config.networkContainer, hostIp: o.config.listen });
    this.life = new Lifecycle({
      engine: o.engine,
      clock: this.clock,
      store: this.store,
      events: this.events,
      log: o.log,
      address: o.address,
      nodeId: o.nodeId,
      network: this.network,
    });
    // A replica that fails later (it crashed, or a hot start failed) gives its port back too.
    this.events.on("state", (ev) => {
      const e = this.entries.get(ev.name);
      if (ev.state !== "FAILED" || e?.rec.role !== "replica") return;
      void Promise.resolve(e.starting).catch(() => {}).then(() => (e.state === "FAILED" ? this.discard(e) : undefined))
        .catch((err) => o.log.warn("could not remove a failed replica", { name: e.name, error: err as Error }));
    });
    const pinned = () => new Set([...this.entries.values()].map((e) => e.rec.port));
    const free = o.portFree ?? ((p: number) => (o.config.networkContainer ? portFree(p) : portFree(p, o.config.listen)));
    this.ports = new PortAllocator(parseRange(o.config.portRange), pinned, free);
    this.host = {
      nodeId: o.nodeId,
      egress: this.network.egress,
      now: () => this.clock.now(),
      address: o.address,
      services: () => this.services,
      onReady: (e, port) => this.life.onReady(e, port),
      save: (e) => this.life.save(e),
      onPolicy: async (e) => {
        // The owner signs the root's new policy, so replicas made from now on carry it.
        if (e.rec.role === "root" && e.rec.manifest) e.rec.manifest = this.sign(e.rec, e.rec.manifest.imageId);
        await this.life.save(e);
        this.events.emit("policy", { name: e.name, policy: { ...e.rec.policy } });
      },
    };
  }

  private sign(rec: Pick<IconRecord, "name" | "env" | "policy">, imageId: string) {
    return this.o.owner && signManifest(this.o.owner, { name: rec.name, imageId, env: rec.env, policy: rec.policy });
  }

  setServices(services: IconServices): void {
    this.services = services;
  }

  /** Finds this node's containers and records and brings them into one consistent state. */
  async reconcile(): Promise<void> {
    const records = await this.store.loadAll();
    const containers = await this.engine.listContainers({ [LABELS.node]: this.o.nodeId });
    const plan = planReconcile(records, containers);
    this.watchIdle();
    for (const r of plan.remove) {
      this.o.log.warn(`removing ${r.why} container of ICON ${r.name}`, { id: r.id.slice(0, 12) });
      await this.engine.removeContainer(r.id, { force: true });
    }
    for (const name of plan.finishRemoval) await this.store.remove(name);
    for (const rec of records) {
      if (rec.removing) continue;
      // A root ICON recorded by an older node gets its owner's manifest now (a replica cannot: it stays put).
      if (rec.role === "root" && !rec.manifest) {
        const id = (await this.engine.inspectImage(rec.image))?.id;
        if (id) rec.manifest = this.sign(rec, id);
      }
      const found = plan.keep.get(rec.name);
      rec.containerId = found?.id;
      const e = new IconEntry(rec, this.host);
      this.entries.set(rec.name, e);
      await this.life.openSocket(e);
      // A paused container's runtime lost its connection with the node that died: thawed, it reconnects.
      if (found?.status === "paused") await this.engine.unpauseContainer(found.id);
      if (found?.status === "running" || found?.status === "paused") {
        // Its runtime reconnects to the new socket and says ready again; its port reaches it meanwhile.
        await this.life.attach(e, found.id).catch((err) => this.o.log.warn("could not publish the port of a running ICON", { name: rec.name, error: err }));
        this.life.transition(e, "WAITING_READY");
        this.life.watchExit(e, found.id);
        this.clock.setTimeout(() => e.state === "WAITING_READY" && void this.life.failAndStop(e, `did not call icon.ready() within ${this.o.config.iconReadySec} s of the node restarting`), this.o.config.iconReadySec * 1000);
      } else if (rec.lastState === "FAILED") this.life.transition(e, "FAILED", rec.reason);
      else this.life.transition(e, "STOPPED");
    }
    // In the background: a start meanwhile waits only for its own ICON's part.
    void this.network.prepare?.([...this.entries.keys()]).catch((err) => this.o.log.warn("could not prepare the ICONs' networks", { error: err as Error }));
  }

  private idleTimer?: TimerHandle;
  private closed = false;

  /** Applies idle policy once a second (idle.ts); stops and removals run one at a time. */
  private watchIdle(): void {
    if (this.idleTimer || this.closed) return;
    const tick = async () => {
      const { pause, stop, remove } = idleActions(this.entries.values(), this.clock.now());
      for (const name of pause) {
        const e = this.entries.get(name);
        if (e) await this.life.pause(e, `idle: no client for ${e.rec.policy.idleStopSec} s`).catch((err) => this.o.log.warn("could not pause an idle ICON", { name, error: err }));
      }
      for (const name of stop) {
        const e = this.entries.get(name);
        const why = e?.state === "PAUSED" ? `paused for ${e.rec.policy.pausedSec ?? DEFAULT_PAUSED_SEC} s` : `idle: no client for ${e?.rec.policy.idleStopSec} s`;
        if (e) await this.life.stop(e, why).catch((err) => this.o.log.warn("could not stop an idle ICON", { name, error: err }));
      }
      for (const name of remove) {
        this.o.log.info("removing an ICON stopped longer than its policy allows", { name });
        await this.remove(name).catch((err) => this.o.log.warn("could not remove an idle ICON", { name, error: err }));
      }
    };
    // The next look is armed once this one's stops and removals are done: they never overlap.
    const arm = () => (this.idleTimer = this.clock.setTimeout(() => void tick().finally(() => this.closed || arm()), 1000));
    arm();
  }

  /** Node shutdown: running ICONs are stopped and kept, for a fast (hot) restart later. */
  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.idleTimer);
    const active = [...this.entries.values()].filter((e) => ACTIVE.includes(e.state));
    await Promise.all(active.map((e) => this.life.stop(e, "node stopping").catch((err) => this.o.log.warn("could not stop ICON", { name: e.name, error: err }))));
    for (const e of this.entries.values()) {
      e.exitWatch?.abort();
      await e.socket?.close();
      e.socket = undefined;
      await e.saving;
    }
  }

  private entry(name: string): IconEntry {
    const e = this.entries.get(name);
    if (!e) throw noSuchIcon(name);
    return e;
  }

  view(e: IconEntry): IconView {
    const r = e.rec;
    const v: IconView = {
      name: r.name, image: r.image, state: e.state, address: this.o.address(), port: r.port, role: r.role,
      parent: r.parent ? `${r.parent.nodeId}/${r.parent.icon}` : null, children: [...r.children], createdAt: r.createdAt, owner: r.manifest?.owner ?? null, network: { ...e.net },
    };
    if (e.reason) v.reason = e.reason;
    if (r.containerId) v.containerId = r.containerId;
    return v;
  }

  list(all = false): IconView[] {
    return [...this.entries.values()].filter((e) => all || ACTIVE.includes(e.state)).map((e) => this.view(e)).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): IconView | undefined {
    const e = this.entries.get(name);
    return e && this.view(e);
  }

  /** Clients the ICON last reported through icon.clients(n); undefined until it reports. */
  clients(name: string): number | undefined {
    return this.entries.get(name)?.clients;
  }

  /** A copy of the record (policy, parent, children, image) for the peer protocol. */
  record(name: string): IconRecord | undefined {
    const e = this.entries.get(name);
    return e && structuredClone(e.rec);
  }

  /**
   * Runs a root ICON at its fixed port (or one from portRange), resolving once it is RUNNING. An image
   * the node's engine lacks is copied from the operator's engine first: the operator asked for it. A
   * replica never is (a peer must not pick the operator's images).
   */
  async run(req: RunRequest, onEvent?: (e: StateEvent) => void): Promise<IconView> {
    if (typeof req.image === "string" && req.image && this.o.importImage && !(await this.engine.inspectImage(req.image)))
      await this.o.importImage(req.image).catch((e) => {
        if (isIconError(e, "NOT_FOUND")) throw imageMissing(req.image);
        throw e;
      });
    return this.launch(req, { role: "root" }, onEvent);
  }

  /**
   * Runs a replica for the peer protocol: port from portRange, parent, manifest and initial state
   * recorded. A replica that fails is removed (container, record, port): a failed replica is never
   * restarted as it is, and keeping its port would let failing requests use up the range.
   */
  createReplica(req: ReplicaRequest, onEvent?: (e: StateEvent) => void): Promise<IconView> {
    const size = Buffer.byteLength(JSON.stringify(req.initialState ?? null));
    if (size > MAX_INITIAL_STATE_BYTES)
      return Promise.reject(new IconError("TOO_LARGE", `initial state of ${size} bytes is over the ${MAX_INITIAL_STATE_BYTES} bytes a replica can receive`, "Hand over less state, or let the replica fetch the rest from its parent."));
    const extra: Partial<IconRecord> = { role: "replica", parent: req.parent, initialState: req.initialState, policy: { ...req.manifest.policy }, manifest: req.manifest };
    return this.launch({ ...req, port: undefined }, extra, onEvent);
  }

  /** The limits a replica gets here (it never chooses its own). */
  replicaLimits(): { memoryBytes: number; cpus: number } {
    return { memoryBytes: parseBytes(this.o.config.iconMemory) ?? 0, cpus: this.o.config.iconCpus };
  }

  private async launch(req: RunRequest, extra: Partial<IconRecord>, onEvent?: (e: StateEvent) => void): Promise<IconView> {
    const turn = this.creating.then(() => this.register(req, extra));
    this.creating = turn.catch(() => {});
    const e = await turn;
    const off = onEvent ? this.events.on("state", (ev) => ev.name === e.name && onEvent(ev)) : undefined;
    try {
      await this.life.boot(e, req.readyTimeoutSec ?? this.o.config.iconReadySec);
    } catch (err) {
      // Nothing usable was started (no image, port refused, no network container): leave nothing behind.
      // A root ICON that ran and failed stays, FAILED, so that "icon logs" can show why.
      if (e.state === "FAILED" && (e.startRefused || e.rec.role === "replica")) await this.discard(e).catch(() => {});
      throw err;
    } finally {
      off?.();
    }
    return this.view(e);
  }

  /** Removes an ICON for good; concurrent calls share one removal. */
  private discard(e: IconEntry): Promise<void> {
    e.discarding ??= this.life.remove(e).then(
      () => void (this.entries.get(e.name) === e && this.entries.delete(e.name)),
      (err) => {
        e.discarding = undefined;
        throw err;
      },
    );
    return e.discarding;
  }

  private async register(req: RunRequest, extra: Partial<IconRecord>): Promise<IconEntry> {
    if (typeof req.image !== "string" || !req.image) throw new IconError("INVALID_INPUT", "an image is required", "Name the image to run, e.g. hello-icon:latest.");
    const image = await this.engine.inspectImage(req.image);
    if (!image) throw imageMissing(req.image);
    const name = req.name ?? nameFromImage(req.image, (n) => this.entries.has(n));
    checkName(name);
    if (this.entries.has(name)) throw new IconError("CONFLICT", `an ICON named "${name}" already exists`, `Choose another --name, or remove it first ("icon rm ${name}").`);
    const user = await iconUser(this.engine, { ...image, ref: req.image }, req.user, this.o.userns ?? false);
    if (user.remapped) this.rootRemapped++;
    const checked = newRecord(req, name, 0, image, this.o.config, user.user); // check everything before claiming a port
    const port = req.port !== undefined ? await this.ports.claim(req.port) : await this.ports.allocate();
    const rec: IconRecord = { ...checked, port, ...extra };
    if (rec.role === "root") rec.manifest = this.sign(rec, image.id);
    await this.store.prepare(name);
    await this.store.save(rec);
    const e = new IconEntry(rec, this.host);
    this.entries.set(name, e);
    return e;
  }

  /**
   * Starts a stopped or failed ICON again (the thesis's hot case), or thaws a paused one (warm),
   * resolving once it is RUNNING.
   */
  async start(name: string, onEvent?: (e: StateEvent) => void): Promise<IconView> {
    const e = this.entry(name);
    const off = onEvent ? this.events.on("state", (ev) => ev.name === name && onEvent(ev)) : undefined;
    try {
      if (e.state === "PAUSED") await this.life.unpause(e);
      if (e.state === "RUNNING") return this.view(e);
      if (ACTIVE.includes(e.state) && !e.starting) await this.untilRunning(e);
      else await this.life.boot(e, this.o.config.iconReadySec);
    } finally {
      off?.();
    }
    return this.view(e);
  }

  /** For an ICON found running at restart: resolves when its runtime says ready again. */
  private untilRunning(e: IconEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      const off = this.events.on("state", (ev) => {
        if (ev.name !== e.name || ev.state === "WAITING_READY") return;
        off();
        if (ev.state === "RUNNING") resolve();
        else reject(new IconError("FAILED", `ICON ${e.name} is ${ev.state}${ev.reason ? `: ${ev.reason}` : ""}`));
      });
    });
  }

  /** Freezes a RUNNING ICON (`icon pause`); `icon start` thaws it. */
  async pause(name: string): Promise<IconView> {
    const e = this.entry(name);
    if (e.state !== "PAUSED") await this.life.pause(e);
    return this.view(e);
  }

  async stop(name: string): Promise<IconView> {
    const e = this.entry(name);
    if (e.state !== "STOPPED") await this.life.stop(e);
    return this.view(e);
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const e = this.entry(name);
    if (ACTIVE.includes(e.state) && !opts.force)
      throw new IconError("CONFLICT", `ICON ${name} is ${e.state}`, `Stop it first ("icon stop ${name}"), or use "icon rm --force ${name}".`);
    await this.discard(e);
  }

  logs(name: string, opts: { tail?: number; follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogLine> {
    const e = this.entry(name);
    if (!e.rec.containerId) throw new IconError("NOT_FOUND", `ICON ${name} has no container yet, so no logs`, `Start it ("icon start ${name}").`);
    return this.engine.logs(e.rec.containerId, opts);
  }

  /** A message from the ICON's parent or a child (peer protocol); false when the ICON is not connected. */
  deliver(name: string, msg: { from: "parent" | "child"; child?: string; data: unknown }): boolean {
    return this.entry(name).deliver({ event: "message", ...msg });
  }

  /** A status of one of the ICON's replicas that did not come through replicate's callback. */
  replicaStatus(name: string, status: ReplicaStatus): boolean {
    return this.entry(name).deliver({ event: "replica", ...status });
  }

  /** Every record, not copied (quotas sum the replicas' at each request): read them, never change them. */
  records(): readonly Readonly<IconRecord>[] {
    return [...this.entries.values()].map((e) => e.rec);
  }

  async updateChildren(name: string, change: (children: string[]) => string[]): Promise<void> {
    const e = this.entry(name);
    e.rec.children = change([...e.rec.children]);
    await this.life.save(e);
  }

  status(): Record<string, unknown> {
    const views = [...this.entries.values()];
    return { icons: views.length, iconsRunning: views.filter((e) => e.state === "RUNNING").length, egress: this.network.egress, rootRemapped: this.rootRemapped };
  }
}
