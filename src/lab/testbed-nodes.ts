/**
 * Real nodes (`icon node start`) inside testbed hosts, for `icon bench closest` and the end-to-end
 * tests: each listens on its host's address, joins the DHT through the first node, runs its own Docker
 * engine in that host's namespace, and is driven through its local API socket (a Unix socket in its data
 * dir, reachable from outside the namespace). stopAll removes their engines with their data dirs.
 *
 * DHT helpers (startHelpers) make the DHT as large as a real one's neighbourhood: more `icon node start`
 * processes on the same hosts, each on its own ports, that only serve the DHT (topology false: they
 * never trace, announce or get a replica) and run no engine (engine external at a socket that does not
 * exist: their yard stays idle).
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answer, nameParam, nodeAnswers, nodeClient, type NodeClient } from "../api/client.ts";
import { inHost, type TestbedStatus } from "../testbed/index.ts";
import { selfCommand } from "../testbed/self.ts";
import { removeOwnEngine } from "../engine/own/own-engine.ts";
import type { TopologySnapshot } from "../topology/topology.ts";

export const DHT_PORT = 4100;
export const PEER_PORT = 4101;
/** Helper i listens on HELPER_PORT + 2i (DHT) and + 2i + 1 (peer protocol). */
const HELPER_PORT = 4200;

export interface TestbedNode {
  host: string;
  address: string;
  dataDir: string;
  api: NodeClient;
  proc: ReturnType<typeof Bun.spawn>;
  logPath: string;
}

export interface NodeOptions {
  /** Host whose node the new one joins through, or a DHT endpoint HOST:PORT. */
  bootstrap?: string;
  /** Extra ICON_* settings, e.g. { ICON_ANNOUNCE_SEC: "5" }. */
  env?: Record<string, string>;
}

/** Removes every ICON of a node, running or not, containers included; tries each, then throws the first failure. */
export async function removeIcons(api: NodeClient): Promise<void> {
  let failed: unknown;
  for (const i of await answer(api.v1.icons.$get({ query: { all: "1" } })))
    await answer(api.v1.icons[":name"].$delete({ param: nameParam(i.name), query: { force: "1" } })).catch((e) => (failed ??= e));
  if (failed) throw failed;
}

export class TestbedNodes {
  readonly nodes = new Map<string, TestbedNode>();
  private readonly root = mkdtempSync(join(tmpdir(), "icon-topo-nodes-"));
  /** Data dirs of every node (not helper) started here, running or not: their engines go with stopAll. */
  private readonly started = new Set<string>();

  /**
   * `logsDir`: where the nodes' logs go and stay after stopAll (for a benchmark's post-mortem); by
   * default they live in the nodes' temporary root and go with it.
   */
  constructor(private readonly st: TestbedStatus, private readonly logsDir?: string) {
    if (logsDir) mkdirSync(logsDir, { recursive: true });
  }

  private address(host: string): string {
    const h = this.st.hosts.find((x) => x.name === host);
    if (!h) throw new Error(`testbed ${this.st.name} has no host ${host}`);
    return h.address;
  }

  /** Starts a node in `host` and waits until its local API answers. */
  async start(host: string, o: NodeOptions = {}): Promise<TestbedNode> {
    this.started.add(join(this.root, host));
    const node = await this.spawn(host, host, DHT_PORT, PEER_PORT, o.bootstrap && (o.bootstrap.includes(":") ? o.bootstrap : `${this.address(o.bootstrap)}:${DHT_PORT}`), o.env);
    this.nodes.set(host, node);
    return node;
  }

  /** DHT helpers started so far. */
  readonly helpers: TestbedNode[] = [];

  /**
   * Starts `count` DHT helpers spread over `hosts` in turn, the first joining through `bootstrap`
   * (HOST:PORT; none: it starts the DHT) and each other through the first; resolves once all answer.
   */
  async startHelpers(hosts: string[], count: number, bootstrap?: string): Promise<void> {
    const spawn = (i: number, via?: string) =>
      this.spawn(hosts[i % hosts.length]!, `helper-${i}`, HELPER_PORT + 2 * i, HELPER_PORT + 2 * i + 1, via, {
        ICON_TOPOLOGY: "false", ICON_ENGINE: "external", ICON_LOG_LEVEL: "warn", ICON_DOCKER_SOCKET: join(this.root, `helper-${i}`, "no-engine.sock"),
      });
    this.helpers.push(await spawn(0, bootstrap));
    // A few at a time: each start is a process start and a DHT join on this small machine.
    for (let i = 1; i < count; i += 8)
      this.helpers.push(...(await Promise.all(Array.from({ length: Math.min(8, count - i) }, (_, j) => spawn(i + j, this.helperBootstrap)))));
  }

  /** The first helper's DHT endpoint (HOST:PORT), through which nodes join the helpers' DHT. */
  get helperBootstrap(): string | undefined {
    const h = this.helpers[0];
    return h && `${h.address}:${HELPER_PORT}`;
  }

  private async spawn(host: string, name: string, dhtPort: number, peerPort: number, bootstrap: string | undefined, env: Record<string, string> = {}): Promise<TestbedNode> {
    const address = this.address(host);
    const dataDir = join(this.root, name);
    const logPath = join(this.logsDir ?? this.root, `${name}.log`);
    const args = ["node", "start", "--data-dir", dataDir, "--listen", address, "--dht-port", String(dhtPort), "--peer-port", String(peerPort)];
    if (bootstrap) args.push("--bootstrap", bootstrap);
    // Appended, so that a node restarted in the same host keeps the log of its previous run.
    const log = openSync(logPath, "a");
    const proc = Bun.spawn(inHost(this.st, host, selfCommand(args)), {
      env: { ...process.env, ...env },
      stdout: "ignore",
      stderr: log,
    });
    closeSync(log);
    const node: TestbedNode = { host, address, dataDir, api: nodeClient(dataDir), proc, logPath };
    // Its engine starts with it: under load that takes a few seconds.
    for (let i = 0; i < 600; i++) {
      if (await nodeAnswers(dataDir)) return node;
      if (proc.exitCode !== null) break;
      await Bun.sleep(50);
    }
    throw new Error(`the node in ${host} did not start; its log ${logPath}:\n${await Bun.file(logPath).text().catch(() => "")}`);
  }

  get(host: string): TestbedNode {
    const n = this.nodes.get(host);
    if (!n) throw new Error(`no node runs in ${host}`);
    return n;
  }

  /** Stops a node with SIGTERM (a clean stop: its DHT stops republishing) and waits for it to exit. */
  async stop(host: string): Promise<void> {
    const n = this.nodes.get(host);
    if (!n) return;
    this.nodes.delete(host);
    await stopProcess(n);
  }


  /** Polls `until` on a node's topology snapshot; throws with the snapshot when time runs out. */
  async waitTopology(host: string, until: (t: TopologySnapshot) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await answer(this.get(host).api.v1.topology.$get()).catch((e) => e);
      if (last && typeof last === "object" && "routers" in last && until(last as never)) return;
      await Bun.sleep(200);
    }
    throw new Error(`${host}'s topology did not get there in ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }

  /** Polls a node's status until its IPv4 reachability is `ipv4`; throws with the last one when time runs out. */
  async waitReachability(host: string, ipv4: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await answer(this.get(host).api.v1.status.$get()).then((s) => s.reachability, (e) => e);
      if ((last as { ipv4?: string }).ipv4 === ipv4) return;
      await Bun.sleep(200);
    }
    throw new Error(`${host}'s reachability did not become ${ipv4} in ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }

  /**
   * Waits until a node has announced at least `routers` routers from at least two traces (its first and
   * the first confirming one, so that a single busy moment does not set the RTTs).
   */
  warmedUp(host: string, routers: number, timeoutMs = 60_000): Promise<void> {
    return this.waitTopology(host, (t) => t.harvest.traced >= 2 && t.routers.filter((r) => r.announcedAt).length >= routers && t.announcer.pending === 0, timeoutMs);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((h) => this.stop(h)));
    await Promise.all(this.helpers.splice(0).map(stopProcess));
    for (const d of this.started) await removeOwnEngine(d);
    rmSync(this.root, { recursive: true, force: true });
  }
}

async function stopProcess(n: TestbedNode): Promise<void> {
  n.proc.kill("SIGTERM");
  const exited = await Promise.race([n.proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
  if (!exited) n.proc.kill("SIGKILL");
}
