/**
 * The sample client (thesis 3.1.3 and 4.2), the lab's measuring instrument: connects to the sample ICON
 * (examples/migrate-app) over a websocket, handshakes, follows the server's migrate message blindly to the
 * closer replica, handshakes there, checks that its state survived the move, and quits. It time-stamps the
 * nine phases of thesis section 4.2. `icon demo client` runs it; the demo and `icon bench migrate` run
 * that command on the testbed's user device.
 */
import type { ClientMessage, ClientState, ReplicaTimings, ServerMessage } from "./app-protocol.ts";

export const PHASES = [
  "connectedOrigin",
  "handshakeSentOrigin",
  "handshakeReplyOrigin",
  "migrateReceived",
  "connectingEdge",
  "connectedEdge",
  "handshakeSentEdge",
  "handshakeReplyEdge",
  "switched",
] as const;
export type Phase = (typeof PHASES)[number];

export interface ClientResult {
  ok: boolean;
  origin: string;
  edge?: string;
  /** Milliseconds since the client started connecting, per phase reached. */
  phasesMs: Partial<Record<Phase, number>>;
  totalMs?: number;
  stateIntact?: boolean;
  mode?: string;
  /** The orchestrators' account of the replicate behind this migration (not for direct ones). */
  timings?: ReplicaTimings;
  /** The origin said it keeps serving the client (no replica could be had), and still answered a hello. */
  stayed?: boolean;
  error?: string;
}

export interface ClientOptions {
  timeoutMs?: number;
  onPhase?: (phase: Phase, ms: number) => void;
  state?: ClientState;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}

function next(ws: WebSocket): Promise<ServerMessage> {
  return new Promise((resolve, reject) => {
    ws.onmessage = (ev) => {
      try {
        resolve(JSON.parse(String(ev.data)) as ServerMessage);
      } catch {
        reject(new Error("the server sent a message that is not JSON"));
      }
    };
    ws.onclose = () => reject(new Error("the server closed the connection"));
  });
}

export async function runClient(originUrl: string, opts: ClientOptions = {}): Promise<ClientResult> {
  const state: ClientState = opts.state ?? { clientId: crypto.randomUUID(), counter: Math.floor(Math.random() * 1e6), note: "carried across a migration" };
  const result: ClientResult = { ok: false, origin: originUrl, phasesMs: {} };
  const t0 = performance.now();
  const mark = (p: Phase) => {
    const ms = Math.round((performance.now() - t0) * 100) / 100;
    result.phasesMs[p] = ms;
    opts.onPhase?.(p, ms);
  };
  const sockets: WebSocket[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no migration within ${opts.timeoutMs ?? 30_000} ms`)), opts.timeoutMs ?? 30_000);
  });
  const hello = (ws: WebSocket, withState: boolean) => ws.send(JSON.stringify({ type: "hello", clientId: state.clientId, state: withState ? state : undefined } satisfies ClientMessage));

  const run = async () => {
    const origin = await open(originUrl);
    sockets.push(origin);
    mark("connectedOrigin");
    const reply = next(origin);
    hello(origin, true);
    mark("handshakeSentOrigin");
    const welcome = await reply;
    if (welcome.type !== "welcome") throw new Error(`expected a welcome from the origin, got ${welcome.type}`);
    const migrating = next(origin);
    mark("handshakeReplyOrigin");
    const migrate = await migrating;
    if (migrate.type === "stay") {
      // Still served by the origin? One more handshake there says so.
      const again = next(origin);
      hello(origin, false);
      const w = await again;
      result.stayed = w.type === "welcome" && JSON.stringify(w.state) === JSON.stringify(state);
      throw new Error(`the origin kept the client (${migrate.reason})${result.stayed ? " and still serves it" : ""}`);
    }
    if (migrate.type !== "migrate") throw new Error(migrate.type === "error" ? migrate.message : `expected a migrate message, got ${migrate.type}`);
    mark("migrateReceived");
    result.edge = migrate.url;
    result.mode = migrate.mode;
    if (migrate.timings) result.timings = migrate.timings;
    mark("connectingEdge");
    const edge = await open(migrate.url);
    sockets.push(edge);
    mark("connectedEdge");
    const edgeReply = next(edge);
    hello(edge, false);
    mark("handshakeSentEdge");
    const edgeWelcome = await edgeReply;
    mark("handshakeReplyEdge");
    if (edgeWelcome.type !== "welcome") throw new Error(`expected a welcome from the edge, got ${edgeWelcome.type}`);
    result.stateIntact = JSON.stringify(edgeWelcome.state) === JSON.stringify(state);
    if (!result.stateIntact) throw new Error(`state did not survive the migration: sent ${JSON.stringify(state)}, edge has ${JSON.stringify(edgeWelcome.state)}`);
    mark("switched");
    origin.close();
  };

  try {
    await Promise.race([run(), timeout]);
    result.ok = true;
    result.totalMs = result.phasesMs.switched;
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    clearTimeout(timer);
    for (const ws of sockets) ws.close();
  }
  return result;
}
