/**
 * icon-runtime: what an ICON imports to talk to its orchestrator (thesis 3.1.2).
 *
 *   import { icon } from "icon-runtime";
 *   Bun.serve({ port: icon.port, fetch });
 *   await icon.ready();                                   // RUNNING: clients may be sent here
 *   const [closer] = await icon.findCloser(clientIp);     // orchestrators closer to that client
 *   const replica = await icon.replicate(closer, { state });
 *   const { address, port } = await replica.running;      // redirect the client there
 *
 * The connection opens on first use and reconnects by itself if the orchestrator restarts.
 */
import { Connection, IconRuntimeError } from "./connection.ts";
import {
  SOCKET_PATH,
  type Candidate,
  type Endpoint,
  type Event,
  type HelloResult,
  type IconInfo,
  type Policy,
  type ReplicaStatus,
  type ReplicaTarget,
  type ReplicateOptions,
} from "./protocol.ts";

export * from "./protocol.ts";
export { IconRuntimeError };

export const RUNTIME_VERSION = "icon-runtime/1";

export interface Message {
  from: "parent" | "child";
  /** The replica id of the child that sent it. */
  child?: string;
  data: unknown;
}

export interface Replica {
  readonly id: string;
  /** The node it was sent to. */
  readonly target: string;
  /** Latest status, once one arrived. */
  readonly status: ReplicaStatus | undefined;
  /** Resolves with the replica's endpoint when it is RUNNING; rejects if it fails or stops first. */
  readonly running: Promise<Endpoint>;
  onStatus(fn: (s: ReplicaStatus) => void): () => void;
}

export interface Icon {
  /** The port this ICON must listen on (ICON_PORT), pinned by the orchestrator. */
  readonly port: number;
  /** The ICON's name on its node (ICON_NAME). */
  readonly name: string;
  /** Tells the orchestrator the server accepts clients; the ICON becomes RUNNING. */
  ready(port?: number): Promise<Endpoint>;
  info(): Promise<IconInfo>;
  /** What the parent handed over in replicate(target, {state}); undefined for a root ICON. */
  initialState<T = unknown>(): Promise<T | undefined>;
  /** Orchestrators closer to this client than this one, closest first. */
  findCloser(clientAddress: string): Promise<Candidate[]>;
  replicate(target: ReplicaTarget, options?: ReplicateOptions): Promise<Replica>;
  onReplica(fn: (s: ReplicaStatus) => void): () => void;
  sendToParent(data: unknown): Promise<boolean>;
  /** Resolves with the number of children it reached. */
  sendToChildren(data: unknown): Promise<number>;
  onMessage(fn: (m: Message) => void): () => void;
  /** Runs before the container stops (orchestrator's terminate or SIGTERM); then the process exits. */
  onTerminate(fn: (reason: string) => void | Promise<void>): () => void;
  policy(p: Policy): Promise<Policy>;
  /** Tells the orchestrator how many clients this ICON serves now; replicas idle past policy.idleStopSec stop. */
  clients(count: number): Promise<void>;
  close(): void;
}

export interface IconOptions {
  socketPath?: string;
  /** Exit the process after the terminate handlers ran (default true). */
  exitOnTerminate?: boolean;
}

function listeners<T>() {
  const set = new Set<(v: T) => void>();
  return {
    add(fn: (v: T) => void) {
      set.add(fn);
      return () => void set.delete(fn);
    },
    emit(v: T) {
      for (const fn of set) fn(v);
    },
  };
}

export function createIcon(opts: IconOptions = {}): Icon {
  const socketPath = opts.socketPath ?? process.env.ICON_SOCKET ?? SOCKET_PATH;
  const messages = listeners<Message>();
  const replicaEvents = listeners<ReplicaStatus>();
  const terminators = new Set<(reason: string) => void | Promise<void>>();
  /** Latest status per replica, also for events that beat the replicate answer. */
  const statuses = new Map<string, ReplicaStatus>();
  /** Arrival order of each status, so a replicate ignores what a replica said before it was asked again. */
  const arrivals = new Map<string, number>();
  let arrived = 0;
  let conn: Connection | undefined;
  let hello: HelloResult | undefined;
  let helloWaiters: ((h: HelloResult) => void)[] = [];
  let readyPort: number | undefined;
  /** ready() calls waiting for a connection: the replay after hello answers them. */
  let readyWaiters: { resolve(e: Endpoint): void; reject(e: Error): void }[] = [];
  let policy: Policy | undefined;
  let terminating: Promise<void> | undefined;
  let signalsHooked = false;

  const terminate = (reason: string, graceMs = 5000) => {
    terminating ??= (async () => {
      const all = [...terminators].map((fn) => Promise.resolve().then(() => fn(reason)).catch((e) => process.stderr.write(`icon-runtime: onTerminate handler failed: ${e}\n`)));
      await Promise.race([Promise.all(all), Bun.sleep(Math.max(graceMs - 250, 0))]);
      if (opts.exitOnTerminate ?? true) process.exit(0);
    })();
    return terminating;
  };

  const onEvent = (e: Event) => {
    if (e.event === "message") messages.emit({ from: e.from, child: e.child, data: e.data });
    else if (e.event === "replica") {
      const { event: _, ...status } = e;
      if (statuses.size > 1000) {
        const oldest = statuses.keys().next().value!;
        statuses.delete(oldest);
        arrivals.delete(oldest);
      }
      statuses.set(status.replica, status);
      arrivals.set(status.replica, ++arrived);
      replicaEvents.emit(status);
    } else if (e.event === "terminate") void terminate(e.reason, e.graceMs);
  };

  const connection = () => {
    conn ??= new Connection({
      socketPath,
      runtime: RUNTIME_VERSION,
      onEvent,
      onHello(h, replay) {
        hello = h;
        for (const w of helloWaiters.splice(0)) w(h);
        // A restarted orchestrator knows nothing of what this ICON told the previous one.
        if (policy) replay("policy", { policy }).catch(() => {});
        if (readyPort !== undefined) {
          const waiters = readyWaiters.splice(0);
          replay("ready", { port: readyPort }).then(
            (r) => waiters.forEach((w) => w.resolve(r.endpoint)),
            (e) => waiters.forEach((w) => w.reject(e)),
          );
        }
      },
    });
    return conn;
  };
  const helloResult = () => (hello ? Promise.resolve(hello) : new Promise<HelloResult>((r) => (connection(), helloWaiters.push(r))));

  return {
    port: Number(process.env.ICON_PORT ?? 0),
    name: process.env.ICON_NAME ?? "",
    async ready(port = Number(process.env.ICON_PORT)) {
      if (!Number.isInteger(port) || port <= 0 || port > 65535)
        throw new IconRuntimeError("INVALID_INPUT", `ready(port): ${port} is not a port`, "Pass the port the server listens on (icon.port).");
      readyPort = port;
      const c = connection();
      if (c.connected) return (await c.request("ready", { port })).endpoint;
      // Not connected yet: the ready replayed after the next hello answers this call.
      return new Promise<Endpoint>((resolve, reject) => readyWaiters.push({ resolve, reject }));
    },
    info: async () => (await helloResult()).icon,
    initialState: async <T>() => ((await helloResult()).initialState ?? undefined) as T | undefined,
    findCloser: async (client) => (await connection().request("findCloser", { client })).candidates,
    async replicate(target, options) {
      const askedAt = arrived;
      const { replica: id } = await connection().request("replicate", { target, options });
      let resolveRunning!: (e: Endpoint) => void;
      let rejectRunning!: (e: Error) => void;
      const running = new Promise<Endpoint>((res, rej) => ((resolveRunning = res), (rejectRunning = rej)));
      running.catch(() => {}); // an unobserved failure must not crash the ICON
      const settle = (s: ReplicaStatus) => {
        if (s.state === "running") resolveRunning(s.endpoint);
        else rejectRunning(new IconRuntimeError("REPLICA_" + s.state.toUpperCase(), s.state === "failed" ? `replica ${id} failed${s.code ? ` (${s.code})` : ""}: ${s.reason}` : `replica ${id} stopped`));
      };
      // A status that came after the request (it may beat the answer) is this replicate's; older ones are not.
      // Once settled, later statuses change nothing, so the listener goes (one per replicate would pile up).
      const known = statuses.get(id);
      if (known && (arrivals.get(id) ?? 0) > askedAt) settle(known);
      else {
        const off = replicaEvents.add((s) => {
          if (s.replica !== id) return;
          off();
          settle(s);
        });
      }
      return {
        id,
        target: target.nodeId,
        get status() {
          return statuses.get(id);
        },
        running,
        onStatus: (fn) => replicaEvents.add((s) => s.replica === id && fn(s)),
      };
    },
    onReplica: (fn) => (connection(), replicaEvents.add(fn)),
    sendToParent: async (data) => (await connection().request("sendToParent", { data })).delivered,
    sendToChildren: async (data) => (await connection().request("sendToChildren", { data })).delivered,
    onMessage: (fn) => (connection(), messages.add(fn)),
    onTerminate(fn) {
      // Only a real ICON (which exits after its handlers) takes over SIGTERM and SIGINT.
      if (!signalsHooked && (opts.exitOnTerminate ?? true)) {
        signalsHooked = true;
        process.once("SIGTERM", () => void terminate("SIGTERM"));
        process.once("SIGINT", () => void terminate("SIGINT"));
      }
      terminators.add(fn);
      connection();
      return () => void terminators.delete(fn);
    },
    async clients(count) {
      await connection().request("clients", { count });
    },
    async policy(p) {
      policy = { ...policy, ...p };
      return (await connection().request("policy", { policy })).policy;
    },
    close() {
      conn?.close();
      helloWaiters = [];
      for (const w of readyWaiters.splice(0)) w.reject(new IconRuntimeError("CLOSED", "the ICON runtime connection is closed"));
    },
  };
}

/** The ICON's runtime, connected on first use. */
export const icon: Icon = createIcon();
