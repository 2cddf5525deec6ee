/**
 * The sample migration server (thesis 3.1.3), shared by the sample ICONs (migrate-app, playground-app):
 * a websocket app (Hono on Bun) that, for every new client, asks its orchestrator for a closer node,
 * replicates itself there when the gain beats its policy, and tells the client to move. The client's
 * small state travels with it. An app adds its own messages and routes; the lab's client
 * (src/lab/client.ts) speaks the part defined in src/lab/app-protocol.ts.
 */
import { Hono } from "hono";
import { getConnInfo, upgradeWebSocket, websocket } from "hono/bun";
import { icon, type Candidate } from "icon-runtime";
import { WS_PATH, type ClientMessage, type ClientState, type ServerMessage } from "../../src/lab/app-protocol.ts";

export interface SampleOptions {
  /** Answers a message of the app's own (not a hello); false: not one of its messages. */
  onAppMessage?: (msg: { type: string } & Record<string, unknown>, send: (m: object) => void) => boolean | Promise<boolean>;
  /** Adds the app's own HTTP routes. */
  routes?: (app: Hono) => void;
}

/**
 * How long a client waits for its move before it is told to stay: whatever stalls (no node answers, a
 * replica never reports running), the client hears why instead of waiting for nothing. Well above a cold
 * migration of the large app (about 5 s on the thesis network).
 */
const MOVE_DEADLINE_MS = Number(process.env.MOVE_DEADLINE_MS ?? 20_000);

/** `p`, or a rejection with `why` once `ms` passed. */
function within<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function serveSample(o: SampleOptions = {}): Promise<void> {
  const states = new Map<string, ClientState>();
  let clients = 0;
  const waiting = new Map<string, ((s: ClientState) => void)[]>();
  const remember = (s: ClientState) => {
    states.set(s.clientId, s);
    for (const w of waiting.get(s.clientId)?.splice(0) ?? []) w(s);
  };
  /** A client that moved here may arrive a moment before its state does. */
  const stateOf = (id: string, ms = 5000) =>
    states.get(id) ??
    new Promise<ClientState | null>((resolve) => {
      const list = waiting.get(id) ?? [];
      waiting.set(id, list);
      list.push(resolve);
      setTimeout(() => resolve(null), ms);
    });

  // ---- becoming migratable: the whole icon-runtime story ----
  icon.onMessage((m) => m.from === "parent" && remember(m.data as ClientState));
  const initial = await icon.initialState<ClientState>();
  if (initial) remember(initial);
  const me = await icon.info();
  await icon.policy({ minRttGainMs: Number(process.env.MIN_GAIN_MS ?? 10), maxReplicas: 16, idleStopSec: 600, idleRemoveSec: 3600 });

  /**
   * Replicates towards the closest node as soon as the client's address is known, at the websocket
   * upgrade: a stopped or new replica starts while the client's handshake is still on its way.
   */
  async function replicateEarly(closer: Promise<Candidate[]>) {
    const [best] = await closer;
    return best ? { best, replica: await icon.replicate(best) } : undefined; // none: the client stays
  }

  async function moveCloser(send: (m: ServerMessage) => void, clientId: string, early: ReturnType<typeof replicateEarly>) {
    const found = await early;
    if (!found) return send({ type: "stay", reason: "no node is closer to you than this one" });
    const endpoint = await found.replica.running;
    const status = found.replica.status?.state === "running" ? found.replica.status : undefined; // how it came to run
    await icon.replicate(found.best, { state: states.get(clientId) }); // it runs: the state goes ahead of the client
    const gainMs = Math.round(((found.best.ownRttMs ?? found.best.rttMs) - found.best.rttMs) * 10) / 10;
    // An IPv6 client was sent to the node's IPv6 address (the finder picks the client's family): in brackets.
    const host = endpoint.address.includes(":") ? `[${endpoint.address}]` : endpoint.address;
    send({ type: "migrate", url: `ws://${host}:${endpoint.port}${WS_PATH}`, gainMs, mode: status?.mode ?? "", timings: status?.timings });
  }
  // ---- end of the ICON-specific part ----

  const app = new Hono();
  app.get("/", (c) => c.text(`${me.name} (${me.role})\n`));
  o.routes?.(app);
  app.get(
    WS_PATH,
    upgradeWebSocket((c) => {
      // Start looking for a closer node at the upgrade: the trace runs while the handshakes travel.
      const client = (getConnInfo(c).remote.address ?? "").replace(/^::ffff:/, "");
      const early = me.role === "root" && client ? replicateEarly(icon.findCloser(client)) : undefined;
      early?.catch(() => {});
      return {
        onOpen: () => void icon.clients(++clients).catch(() => {}),
        onClose: () => void icon.clients(--clients).catch(() => {}),
        async onMessage(ev, ws) {
          const send = (m: object) => ws.send(JSON.stringify(m));
          let msg: ClientMessage | ({ type: string } & Record<string, unknown>);
          try {
            msg = JSON.parse(String(ev.data));
          } catch {
            return send({ type: "error", message: "messages must be JSON" } satisfies ServerMessage);
          }
          if (msg.type !== "hello") {
            if (!(await o.onAppMessage?.(msg as { type: string }, send))) send({ type: "error", message: `unknown message ${String(msg.type)}` } satisfies ServerMessage);
            return;
          }
          const hello = msg as ClientMessage;
          if (typeof hello.clientId !== "string") return send({ type: "error", message: "a hello needs a clientId" } satisfies ServerMessage);
          if (hello.state) remember(hello.state);
          send({ type: "welcome", server: me.name, state: await stateOf(hello.clientId) } satisfies ServerMessage);
          if (early) {
            // One answer per client, migrate or stay: a move that ends after the deadline says nothing more.
            let told = false;
            const tell = (m: ServerMessage) => void (told || ((told = true), send(m)));
            within(moveCloser(tell, hello.clientId, early), MOVE_DEADLINE_MS, `no replica was ready to take the client within ${MOVE_DEADLINE_MS} ms`).catch((e) => {
              console.error(`client ${hello.clientId} stays here: ${(e as Error).message}`);
              tell({ type: "stay", reason: (e as Error).message });
            });
          }
        },
      };
    }),
  );

  Bun.serve({ port: icon.port, fetch: app.fetch, websocket });
  await icon.ready();
  console.log(`${me.name} (${me.role}) ready on port ${icon.port}`);
}
