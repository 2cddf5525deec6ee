/**
 * The migration lab: the thesis's experiment (section 4.1) as one object. It brings up the thesis
 * network (or another topology), builds the icon-runtime base and the sample ICON on this machine's
 * Docker engine (the operator's, as an ICON author would), starts a node on the origin (IEP1) and the edge
 * (IEP2) in one DHT, each with its own engine as every node has, gives the edge's engine the
 * icon-runtime base (thesis 4.1: base layers already there), runs the root ICON on the origin with
 * `icon run` (which copies it from the operator's engine), waits until the origin knows the edge is
 * closer to the client (UD), and then runs sample clients on the client host. `icon demo`, `icon bench
 * migrate` and the end-to-end tests all use it, so what the demo shows is what the benchmark measures.
 *
 * For the benchmark it can also make the DHT as large as a real neighbourhood (DHT helpers on every
 * host), give the client networks nobody has seen (first-contact.ts), run any image built FROM
 * icon-runtime as the root ICON, and run a registry on the origin (registry.ts).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { answer, readStream } from "../api/client.ts";
import { DASHBOARD_SOCKET } from "../dashboard/server.ts";
import { IconError } from "../errors.ts";
import type { ClientResult, Phase } from "./client.ts";
import { WS_PATH } from "./app-protocol.ts";
import { removeIcons, TestbedNodes } from "./testbed-nodes.ts";
import { address, address6, inHost, pingMatrix, thesisTopology, withLoss, withVariant, type TestbedStatus, type NetworkSpec } from "../testbed/index.ts";
import { selfCommand } from "../testbed/self.ts";
import type { ContainerEngine } from "../engine/container-engine.ts";
import { copyImage } from "../engine/copy-image.ts";
import { buildRuntimeImage, runtimeTag, RUNTIME_REPO } from "../yard/runtime-image.ts";
import { MAIN_DOCKER_SOCKET } from "../testbed/docker.ts";
import { lines } from "../util/lines.ts";
import { buildAppImage } from "./app-image.ts";
import { createDockerEngine } from "../engine/docker-engine.ts";
import { containerMemory, type ContainerMemory } from "./container-memory.ts";
import { heldKeys, pathRouterIds, useClientNetwork, useOwnNetwork } from "./first-contact.ts";
import { LabRegistry } from "./registry.ts";

export const RUNTIME_IMAGE = `${RUNTIME_REPO}:${runtimeTag()}`;

/** Which testbed host plays which part. */
export interface Roles {
  /** Runs the sample clients. */
  client: string;
  /** Runs the root ICON, far from the client. */
  origin: string;
  /** Near the client: where the ICON replicates. */
  edge: string;
}

/** The thesis's parts (figure 4.1). */
export const THESIS_ROLES: Roles = { client: "UD", origin: "IEP1", edge: "IEP2" };
export const APP_NAME = "migrate-app";
export const APP_PORT = 8080;

export type LabProgress = (step: string, detail?: Record<string, unknown>) => void;

export interface LabOptions {
  /** Testbed name (several labs and testbeds can coexist). */
  name: string;
  /** Packet loss on every link, 0..1. */
  loss?: number;
  /** The network (default: the thesis's) and who plays which part in it (default: THESIS_ROLES). */
  topology?: NetworkSpec;
  roles?: Roles;
  progress?: LabProgress;
  /** Extra ICON_* settings for both nodes, or per node (given the testbed, e.g. for a home's public address). */
  nodeEnv?: Record<string, string> | ((host: string, st: TestbedStatus) => Record<string, string>);
  /** Keep the nodes' logs here (appended across restarts and fresh nodes). */
  logsDir?: string;
  /**
   * The edge cannot be reached (behind carrier-grade NAT): the warm-up waits until it knows it, instead
   * of until the origin finds it closer.
   */
  edgeUnreachable?: boolean;
  /** The root ICON's image on this machine's engine, built FROM icon-runtime:<version> (default: the sample app, built here). */
  app?: string;
  /** Images freshNodes will run later: checked now, before anything is brought up. */
  laterApps?: string[];
  /** DHT nodes besides the origin and the edge, spread over every host (default 0). */
  dhtHelpers?: number;
  /** Extra /24s the client host holds, one per first-contact sample (default 0). */
  clientPrefixes?: number;
  /**
   * IPv6: every link dual stack, the nodes listen on their hosts' IPv6 addresses too, and the client
   * speaks IPv6 only (the origin's IPv6 URL; the origin is asked about the client's IPv6 address).
   */
  ipv6?: boolean;
}

export interface Rtts {
  clientOrigin: number;
  clientEdge: number;
  originEdge: number;
}

/** What a fresh pair of nodes runs: the root ICON's image and extra settings for both nodes. */
export interface NodeSetup {
  app?: string;
  env?: Record<string, string>;
}

export class MigrationLab {
  private constructor(
    readonly st: TestbedStatus,
    readonly topology: NetworkSpec,
    readonly roles: Roles,
    public nodes: TestbedNodes,
    /** The operator's engine: where the images are built. */
    private readonly user: ContainerEngine,
    /** The root ICON's image by default. */
    readonly defaultApp: string,
    private readonly o: LabOptions,
  ) {
    this.appImage = defaultApp;
  }

  /** The image the root ICON runs now. */
  appImage: string;
  /** The engines of the running nodes (their own), by host. */
  readonly engines = new Map<string, ContainerEngine>();
  /** The registry on the origin, once startRegistry ran. */
  registry?: LabRegistry;
  private env: Record<string, string> = {};

  get originUrl(): string {
    const host = this.o.ipv6 ? `[${address6(this.st, this.roles.origin)}]` : address(this.st, this.roles.origin);
    return `ws://${host}:${APP_PORT}${WS_PATH}`;
  }

  /** The address the client connects from: its IPv6 one in an IPv6 lab. */
  get clientAddress(): string {
    return this.o.ipv6 ? address6(this.st, this.roles.client) : address(this.st, this.roles.client);
  }

  static async open(o: LabOptions): Promise<MigrationLab> {
    const say = o.progress ?? (() => {});
    const { up } = await import("../testbed/lifecycle.ts");
    const roles = o.roles ?? THESIS_ROLES;
    let topology = o.loss ? withLoss(o.topology ?? thesisTopology(), o.loss) : (o.topology ?? thesisTopology());
    if (o.ipv6) topology = withVariant(topology, { ipv6: true });
    checkRoles(topology, roles);
    if (o.clientPrefixes) topology = { ...topology, hosts: topology.hosts.map((h) => (h.name === roles.client ? { ...h, clientPrefixes: o.clientPrefixes } : h)) };
    const user = await createDockerEngine(MAIN_DOCKER_SOCKET);
    if (!(await user.inspectImage(RUNTIME_IMAGE))) {
      say("runtime image", { engine: MAIN_DOCKER_SOCKET });
      await buildRuntimeImage(user);
    }
    for (const image of o.laterApps ?? []) await checkApp(user, image);
    let app = o.app;
    if (app) await checkApp(user, app);
    else {
      say("app image", { engine: MAIN_DOCKER_SOCKET });
      app = await buildAppImage(user);
    }
    say("testbed", { name: o.name, loss: o.loss ?? 0 });
    const st = await up({ name: o.name, topology, docker: false, progress: (_e, human) => say("testbed", { detail: human }) });
    const lab = new MigrationLab(st, topology, roles, new TestbedNodes(st, o.logsDir), user, app, o);
    try {
      await lab.startNodes();
    } catch (e) {
      await lab.close().catch(() => {});
      throw e;
    }
    return lab;
  }

  /**
   * DHT helpers (if asked), two nodes in one DHT, the edge's engine given the base layer, the root ICON
   * on the origin, and the warm-up. The runtime base is built once from this binary, so it is the same
   * layer everywhere and only the application's layers ever travel (thesis 4.1: "base layers already exist").
   */
  private async startNodes(): Promise<void> {
    const say = this.o.progress ?? (() => {});
    if (this.o.dhtHelpers) {
      say("DHT helpers", { count: this.o.dhtHelpers, hosts: this.st.hosts.map((h) => h.name) });
      await this.nodes.startHelpers(this.st.hosts.map((h) => h.name), this.o.dhtHelpers);
    }
    await this.startNode(this.roles.origin, this.nodes.helperBootstrap);
    await this.startNode(this.roles.edge, this.roles.origin);
    say("runtime image", { host: this.roles.edge });
    await copyImage(RUNTIME_IMAGE, { engine: this.user, name: "this machine's engine" }, { engine: this.engines.get(this.roles.edge)!, name: `the engine of the node in ${this.roles.edge}` });
    say("root ICON", { host: this.roles.origin, image: this.appImage, port: APP_PORT });
    await readStream(this.nodes.get(this.roles.origin).api.v1.icons.$post({ json: { image: this.appImage, name: APP_NAME, port: APP_PORT } }));
    say("warm-up", { detail: "edge announces its routers; origin learns the edge is closer to the client" });
    await this.warmUp();
  }

  /**
   * Pristine nodes, as the thesis starts each case (4.1): every node's ICONs removed, the nodes (DHT
   * helpers too) stopped and their engines removed, and new nodes (new identities, new engines, an
   * empty DHT) started, with the root ICON on `setup.app` and the nodes given `setup.env`.
   */
  async freshNodes(setup: NodeSetup = {}): Promise<void> {
    await this.removeNodes();
    this.appImage = setup.app ?? this.defaultApp;
    if (setup.app) await checkApp(this.user, setup.app);
    this.env = setup.env ?? {};
    this.dhtIds = undefined;
    this.nodes = new TestbedNodes(this.st, this.o.logsDir);
    await this.startNodes();
  }

  /** Removes every node's ICONs (containers included), stops the nodes and removes their engines. */
  private async removeNodes(): Promise<void> {
    for (const n of this.nodes.nodes.values()) await removeIcons(n.api).catch(() => {});
    await this.nodes.stopAll();
    this.engines.clear();
  }

  /** The Unix socket of a node's dashboard (dashboard/server.ts), reachable from outside its namespace. */
  dashboardSocket(host: string): string {
    return join(this.nodes.get(host).dataDir, DASHBOARD_SOCKET);
  }

  /** Starts the node of `host`, joining the DHT through `bootstrap` (a host, or a DHT endpoint HOST:PORT). */
  async startNode(host: string, bootstrap = host === this.roles.origin ? this.nodes.helperBootstrap : this.roles.origin): Promise<void> {
    this.o.progress?.("node", { host });
    // Reachability needs dial-backs from a quorum of /24s; one is enough on a testbed of few hosts.
    // ICON_LOG_LEVEL=debug in the lab's own environment gives its nodes the runtime and replicate traces.
    const env = {
      ICON_LOG_LEVEL: process.env.ICON_LOG_LEVEL ?? "info", ICON_DASHBOARD_LISTEN: "127.0.0.1:4180", ICON_REACHABILITY_QUORUM: "1",
      ...(this.o.ipv6 ? { ICON_LISTEN6: address6(this.st, host) } : {}),
      ...(typeof this.o.nodeEnv === "function" ? this.o.nodeEnv(host, this.st) : this.o.nodeEnv), ...this.env,
    };
    const node = await this.nodes.start(host, { bootstrap, env });
    const socket = (await answer(node.api.v1.status.$get())).engine.socket;
    this.engines.set(host, await createDockerEngine(socket));
  }

  /** Waits until the edge has announced the routers it shares with the client's path, and the origin sees the edge as closer. */
  private async warmUp(timeoutMs = 90_000): Promise<void> {
    if (this.o.edgeUnreachable) return this.nodes.waitReachability(this.roles.edge, "unreachable", timeoutMs);
    await this.nodes.warmedUp(this.roles.edge, 2, timeoutMs);
    const ud = this.clientAddress;
    const edgeId = await this.nodeId(this.roles.edge);
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await answer(this.nodes.get(this.roles.origin).api.v1.closest.$get({ query: { client: ud, fresh: "1" } })).catch((e) => e);
      if ((last as { candidates?: { nodeId: string }[] }).candidates?.[0]?.nodeId === edgeId) return;
      await Bun.sleep(500);
    }
    throw new IconError("TIMEOUT", `the origin never found the edge closer to ${ud}: ${JSON.stringify(last)}; ${await this.announcementsSeen()}`);
  }

  /**
   * For a failed warm-up: the routers each side knows (RTT from it), and what a DHT lookup from the origin
   * finds for each router the edge announced (announcer, its address and claimed RTT).
   */
  private async announcementsSeen(): Promise<string> {
    const origin = this.nodes.get(this.roles.origin).api.v1;
    const edgeId = await this.nodeId(this.roles.edge);
    const map = async (host: string) => (await answer(this.nodes.get(host).api.v1.topology.$get())).routers;
    const edgeRouters = await map(this.roles.edge);
    const found = await Promise.all(edgeRouters.filter((r) => r.announcedAt).map(async (r) => {
      const list = await readStream(origin.dht.announcements.$post({ json: { routerId: r.routerId } })).catch((e) => String(e));
      const who = Array.isArray(list) ? list.map((a) => `${a.nodeId === edgeId ? "edge" : a.nodeId.slice(0, 8)}@${a.address} ${a.rttMs} ms`).join(" + ") : list;
      return `${r.routerId} (edge ${r.rttMs} ms): ${who || "none"}`;
    }));
    const originRouters = (await map(this.roles.origin)).map((r) => `${r.routerId} ${r.rttMs} ms via ${r.via}`);
    const toEdge = (await answer(origin.dht.peers.$get()).catch(() => [])).find((p) => p.id === edgeId);
    return `the origin's routers: ${originRouters.join(", ")}; the edge in the origin's table: ${JSON.stringify(toEdge)}; lookups from the origin of the edge's announced routers: ${found.join("; ")}`;
  }

  private async nodeId(host: string): Promise<string> {
    return (await answer(this.nodes.get(host).api.v1.status.$get())).nodeId;
  }

  /** Runs the sample client on UD against the origin; phases stream to onPhase as they happen. */
  async client(opts: { timeoutMs?: number; onPhase?: (p: Phase, ms: number) => void } = {}): Promise<ClientResult> {
    const argv = inHost(this.st, this.roles.client, selfCommand(["demo", "client", this.originUrl, "--events", "--timeout-ms", String(opts.timeoutMs ?? 30_000)]));
    const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
    let result: ClientResult | undefined;
    for await (const line of lines(proc.stdout)) {
      const ev = JSON.parse(line) as { type: string; phase?: Phase; ms?: number; result?: ClientResult };
      if (ev.type === "phase") opts.onPhase?.(ev.phase!, ev.ms!);
      else if (ev.type === "result") result = ev.result;
    }
    const code = await proc.exited;
    if (!result) throw new IconError("FAILED", `the client on ${this.roles.client} exited ${code} without a result: ${(await new Response(proc.stderr).text()).trim()}`);
    return result;
  }

  /**
   * The thesis's hot procedure: restart the edge node (SIGTERM, which stops its ICONs and keeps them
   * for a hot start; then start it again). `untilConnected`: also wait until the origin holds the
   * edge's new peer connection (the restarted node dials the peers it knew); otherwise a client that
   * comes at once meets the reconnection, as after a real restart.
   */
  async restartEdge(opts: { untilConnected?: boolean } = {}): Promise<void> {
    const since = Date.now();
    const wait = opts.untilConnected && (await this.originSeesEdge());
    await this.nodes.stop(this.roles.edge);
    await this.startNode(this.roles.edge);
    if (wait) await this.untilConnected(since);
  }

  /**
   * The thesis's cold procedure: remove the edge's replica container and the application image, and
   * restart the edge, its layer store emptied while it is down (else it would load the layers it
   * received last time from disk); then wait until the origin is connected to it again.
   */
  async resetEdgeCold(): Promise<void> {
    const edge = this.nodes.get(this.roles.edge);
    const wasConnected = await this.originSeesEdge();
    const since = Date.now();
    await removeIcons(edge.api);
    // The node's own engine runs while the node does: the image goes first, then the node restarts.
    const engine = this.engines.get(this.roles.edge)!;
    const info = await this.edgeAppImage();
    if (info) {
      // A replica the node was still creating may hold the image: it goes too.
      const left = await engine.listContainers({});
      for (const c of left) {
        const image = (await engine.inspectContainer(c.id))?.image ?? "";
        if (image === info.id || info.repoTags.includes(image)) await engine.removeContainer(c.id, { force: true });
      }
      await engine.removeImage(info.id, { force: true });
    }
    await this.nodes.stop(this.roles.edge);
    await rm(join(edge.dataDir, "layers"), { recursive: true, force: true });
    await this.startNode(this.roles.edge);
    if (wasConnected) await this.untilConnected(since);
  }

  /** The edge's copy of the application image: by the origin's id, since a peer's image has no tag of the origin's there. */
  private async edgeAppImage() {
    const id = (await this.engines.get(this.roles.origin)!.inspectImage(this.appImage))?.id;
    return id ? this.engines.get(this.roles.edge)!.inspectImage(id) : undefined;
  }

  /** The edge's replica of the root ICON (the one replica there). */
  private async edgeReplica() {
    const replica = (await answer(this.nodes.get(this.roles.edge).api.v1.icons.$get({ query: { all: "1" } }))).find((i) => i.role === "replica");
    if (!replica) throw new IconError("NOT_FOUND", `no replica on the edge ${this.roles.edge} to pause`, "Run a client first: the first one creates it.");
    return replica;
  }

  /**
   * The warm procedure: the edge's replica paused (`icon pause`, as its idle policy does), and the
   * memory its frozen container holds; then a pause of `settleMs` so that the origin has heard the
   * replica is no longer running (a one-way status message).
   */
  async pauseReplica(settleMs = 500): Promise<ContainerMemory> {
    const edge = this.nodes.get(this.roles.edge);
    const { name } = await this.edgeReplica();
    const view = await answer(edge.api.v1.icons[":name"].pause.$post({ param: { name } }));
    const pid = (await this.engines.get(this.roles.edge)!.inspectContainer(view.containerId!))?.pid ?? 0;
    const memory = await containerMemory(pid);
    await Bun.sleep(settleMs);
    return memory;
  }

  /**
   * First contact: the client's next connections come from its k-th extra /24 (one no trace has seen),
   * and the origin forgets its cached traces and lookups. Returns the client's address and how many
   * of the router keys on its path the origin is one of the k closest nodes to (where announcements land in its own store).
   */
  async firstContact(k: number): Promise<{ client: string; pathKeys: number; heldByOrigin: number }> {
    const client = await useClientNetwork(this.st, this.roles.client, k);
    await answer(this.nodes.get(this.roles.origin).api.v1.topology.flush.$post());
    const keys = pathRouterIds(this.st, this.topology, this.roles.origin, this.roles.client, client);
    // Every node's id, once per set of nodes (a restart keeps a node's identity).
    this.dhtIds ??= await Promise.all([...this.nodes.nodes.values(), ...this.nodes.helpers].map(async (n) => (await answer(n.api.v1.status.$get())).nodeId));
    return { client, pathKeys: keys.length, heldByOrigin: heldKeys(keys, this.dhtIds, await this.nodeId(this.roles.origin)) };
  }
  private dhtIds?: string[];

  /** The client's connections come from its own address again. */
  ownClientNetwork(): Promise<void> {
    return useOwnNetwork(this.st, this.roles.client);
  }

  /**
   * The registry on the origin filled from the origin's engine with the root ICON's image and the
   * runtime base. The edge's base came by `docker load`, which records no registry blob for it, so
   * Docker would pull the base again with the app: the edge pulls the base from the registry once
   * instead (same image id), and then a pull of the app fetches only the app's layers, as IPO's edge
   * held the base (thesis 4.1). The nodes run with the setting registry = `this.registry.endpoint`.
   */
  async fillRegistry(): Promise<void> {
    const reg = this.registry!;
    const origin = this.engines.get(this.roles.origin)!;
    // `icon run` brought the app's chain to the origin, not the base's name.
    await copyImage(RUNTIME_IMAGE, { engine: this.user, name: "this machine's engine" }, { engine: origin, name: `the engine of the node in ${this.roles.origin}` });
    for (const image of [RUNTIME_IMAGE, this.appImage]) {
      await origin.tagImage(image, ...splitTag(reg.nameOf(image)));
      await origin.pushImage(reg.nameOf(image));
    }
    const edge = this.engines.get(this.roles.edge)!;
    await edge.removeImage(RUNTIME_IMAGE); // no container uses it yet: new nodes
    await edge.pullImage(reg.nameOf(RUNTIME_IMAGE));
    await edge.tagImage(reg.nameOf(RUNTIME_IMAGE), ...splitTag(RUNTIME_IMAGE));
    await edge.removeImage(reg.nameOf(RUNTIME_IMAGE)); // the registry's name only
  }

  async startRegistry(): Promise<LabRegistry> {
    this.registry ??= await LabRegistry.start(this.st, this.roles.origin);
    return this.registry;
  }

  /** Whether the origin holds a peer connection to the edge node, opened at or after `since` (ms epoch). */
  async originSeesEdge(since = 0): Promise<boolean> {
    const edgeId = await this.nodeId(this.roles.edge);
    const peers = await answer(this.nodes.get(this.roles.origin).api.v1.peers.$get()).catch(() => []);
    return peers.some((p) => p.nodeId === edgeId && Date.parse(p.openedAt) >= since);
  }

  /**
   * A restarted edge dials the peers it knew at start; wait until the origin holds that new connection
   * (not the old one, whose close may still be on its way under loss), so a sample starts from a settled node.
   */
  private async untilConnected(since: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.originSeesEdge(since)) return;
      await Bun.sleep(50);
    }
    throw new IconError("TIMEOUT", "the restarted edge node did not reconnect to the origin within 10 s");
  }

  /** RTTs between the three hosts, measured with ping like thesis figure 4.1. */
  async rtts(count = 20): Promise<Rtts> {
    const { client, origin, edge } = this.roles;
    const res = await pingMatrix(this.st, this.topology, { count, interval: 0.05, pairs: [[client, origin], [client, edge], [origin, edge]] });
    // A host behind NAT pings out instead of being pinged (pingMatrix): either direction is the pair's RTT.
    const mean = (a: string, b: string) => res.find((r) => (r.from === a && r.to === b) || (r.from === b && r.to === a))?.meanMs ?? NaN;
    return { clientOrigin: mean(client, origin), clientEdge: mean(client, edge), originEdge: mean(origin, edge) };
  }

  /** Node logs, for a failure report. */
  async logs(host: string, lines = 40): Promise<string> {
    const n = this.nodes.nodes.get(host);
    if (!n) return "";
    return (await Bun.file(n.logPath).text().catch(() => "")).split("\n").slice(-lines).join("\n");
  }

  /** Data dirs of the running nodes, by host (for `icon ps --data-dir ...` when the lab is kept). */
  dataDirs(): Record<string, string> {
    return Object.fromEntries([...this.nodes.nodes].map(([h, n]) => [h, n.dataDir]));
  }

  /** Stops the nodes, the registry and takes the testbed down; with keep, leaves everything running. */
  async close(opts: { keep?: boolean } = {}): Promise<void> {
    if (opts.keep) return;
    await this.removeNodes();
    await this.registry?.stop();
    const { down } = await import("../testbed/lifecycle.ts");
    await down(this.o.name);
  }
}

const splitTag = (ref: string): [string, string] => {
  const i = ref.lastIndexOf(":");
  return [ref.slice(0, i), ref.slice(i + 1)];
};

/**
 * Refuses an image the lab cannot run as the root ICON: missing from this machine's engine, or not
 * built FROM this binary's icon-runtime (its base would have to travel too, and no migration case
 * would measure what it says).
 */
async function checkApp(user: ContainerEngine, image: string): Promise<void> {
  const [app, base] = await Promise.all([user.inspectImage(image), user.inspectImage(RUNTIME_IMAGE)]);
  const fix = `Build it FROM ${RUNTIME_IMAGE} on this machine's engine (docker build --build-arg RUNTIME=${RUNTIME_IMAGE} ...; examples/playground-app/build.sh does).`;
  if (!app) throw new IconError("NOT_FOUND", `image ${image} is not on this machine's engine (${MAIN_DOCKER_SOCKET})`, fix);
  const baseLayers = base?.diffIds ?? [];
  if (app.diffIds.length <= baseLayers.length || baseLayers.some((d, i) => app.diffIds[i] !== d))
    throw new IconError("INVALID_INPUT", `image ${image} is not built FROM ${RUNTIME_IMAGE}: its first layers are not that image's`, fix);
}

/** Refuses roles the topology cannot play, before anything is brought up. */
export function checkRoles(t: NetworkSpec, r: Roles): void {
  const fix = `Pick hosts of the topology (${t.hosts.map((h) => h.name).join(", ")}) with --client, --origin and --edge.`;
  const names = [r.client, r.origin, r.edge];
  if (new Set(names).size !== 3) throw new IconError("USAGE", `client, origin and edge must be three different hosts (got ${names.join(", ")})`, fix);
  for (const [part, name] of Object.entries(r))
    if (!t.hosts.some((h) => h.name === name)) throw new IconError("USAGE", `the ${part} host ${name} is not in topology ${t.source}`, fix);
}
