/**
 * The peer network of one node: a server on the peer port that accepts authenticated websockets, a
 * dialer that opens them to other nodes, and a pool that keeps one open connection per peer node and
 * hands it to whichever side needs it next. A node restarted dials the peers it knew, so the first
 * request after a restart does not pay for a new handshake on the critical path.
 */
import type { Server, ServerWebSocket } from "bun";
import { Hono } from "hono";
import { join } from "node:path";
import { installErrorHandler } from "../api/http.ts";
import { IconError } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import { realClock, type Clock } from "../util/clock.ts";
import { VERSION } from "../version.ts";
import { NonceCache, handshakeHeaders, newBootId, verifyHandshake, verifyWelcome, welcomeFrame, HEADER, type VerifiedClient } from "./auth.ts";
import { PeerConnection, type Handlers, type MessageHandler, type RequestHandler } from "./connection.ts";
import { MAX_FRAME_BYTES, WS_PATH, parseFrame } from "./protocol.ts";
import { toHex } from "../util/hex.ts";

export interface PeerEndpoint {
  nodeId: string;
  address: string;
  port: number;
}

export interface PeerNetworkInit {
  identity: Identity;
  log: Logger;
  listen: string;
  port: number;
  /** The address other nodes reach this one at (advertised or learned). */
  advertisedAddress: () => string;
  /** Where known peers are saved between runs; none in tests that do not care. */
  dataDir?: string;
  connectTimeoutMs?: number;
  maxConnections?: number;
  /** Request and connect timeouts. @default realClock */
  clock?: Clock;
}

type WsData = { client: VerifiedClient; conn?: PeerConnection };

export class PeerNetwork {
  private server?: Server<WsData>;
  private readonly byNode = new Map<string, PeerConnection>();
  private readonly dialing = new Map<string, Promise<PeerConnection>>();
  private readonly known = new Map<string, PeerEndpoint>();
  private readonly nonces = new NonceCache();
  private readonly handlers: Handlers = { requests: new Map(), messages: new Map() };
  private readonly connectListeners: ((c: PeerConnection) => void)[] = [];
  private readonly restartListeners: ((nodeId: string) => void)[] = [];
  readonly nodeId: string;
  /** This process's boot id, sent in every handshake. */
  readonly boot = newBootId();
  readonly http = new Hono();
  private readonly clock: Clock;

  constructor(private readonly init: PeerNetworkInit) {
    this.clock = init.clock ?? realClock;
    this.nodeId = toHex(init.identity.nodeId);
    installErrorHandler(this.http, (e) => init.log.error("peer HTTP request failed", { error: e as Error }));
    this.http.get("/v1/peer/info", (c) => c.json({ nodeId: this.nodeId, version: VERSION }));
  }

  handle(op: string, handler: RequestHandler): void {
    this.handlers.requests.set(op, handler);
  }
  onMessage(op: string, handler: MessageHandler): void {
    this.handlers.messages.set(op, handler);
  }
  onConnect(fn: (c: PeerConnection) => void): void {
    this.connectListeners.push(fn);
  }
  /** Called when a node connects with a new boot id: it restarted, and what it told us before is stale. */
  onPeerRestart(fn: (nodeId: string) => void): void {
    this.restartListeners.push(fn);
  }

  get port(): number {
    return this.server?.port ?? this.init.port;
  }

  get endpoint(): string {
    return `${this.init.advertisedAddress()}:${this.port}`;
  }

  async start(): Promise<void> {
    const max = this.init.maxConnections ?? 512;
    try {
      this.server = Bun.serve<WsData>({
        hostname: this.init.listen,
        port: this.init.port,
        fetch: (req, server) => {
          if (new URL(req.url).pathname !== WS_PATH) return this.http.fetch(req);
          if (this.byNode.size >= max) return Response.json({ error: "too many peer connections", code: "CONFLICT" }, { status: 503 });
          let client: VerifiedClient;
          try {
            client = verifyHandshake(req.headers, this.init.identity, this.nonces);
          } catch (e) {
            this.init.log.warn("refused a peer handshake", { from: server.requestIP(req)?.address, reason: (e as Error).message });
            return Response.json((e as IconError).toJSON(), { status: 401 });
          }
          return server.upgrade(req, { data: { client } }) ? undefined : Response.json({ error: "websocket upgrade failed", code: "INVALID_INPUT" }, { status: 400 });
        },
        websocket: {
          maxPayloadLength: MAX_FRAME_BYTES + 4,
          idleTimeout: 120,
          sendPings: true,
          open: (ws) => this.accepted(ws),
          message: (ws, data) => ws.data.conn?.receive(typeof data === "string" ? data : new Uint8Array(data)),
          close: (ws, code, reason) => ws.data.conn?.closed(`closed by peer (${code}${reason ? " " + reason : ""})`),
        },
      });
    } catch (e) {
      throw new IconError("CONFLICT", `cannot listen for peers on ${this.init.listen}:${this.init.port}: ${(e as Error).message}`,
        "Pick a free --peer-port (0 picks one), or stop what holds the port.");
    }
    await this.loadKnown();
  }

  private accepted(ws: ServerWebSocket<WsData>): void {
    const { client } = ws.data;
    ws.send(welcomeFrame(this.init.identity, client, this.boot));
    const conn = new PeerConnection(
      { send: (d) => void ws.send(d), close: (c, r) => ws.close(c, r), buffered: () => ws.getBufferedAmount() },
      client.nodeId, "in", client.endpoint, client.boot, this.handlers, this.init.log, this.clock,
    );
    ws.data.conn = conn;
    if (client.endpoint) this.remember({ nodeId: client.nodeId, ...client.endpoint });
    this.register(conn);
  }

  private register(conn: PeerConnection): void {
    const old = this.byNode.get(conn.nodeId);
    this.byNode.set(conn.nodeId, conn);
    conn.onClose(() => {
      if (this.byNode.get(conn.nodeId) === conn) this.byNode.delete(conn.nodeId);
    });
    if (old && old !== conn && old.boot !== conn.boot) {
      // The node restarted: its old connection is dead even if its close has not arrived yet (a lost FIN
      // under loss), and everything it said about itself before is stale.
      old.close("the peer restarted");
      this.init.log.debug("peer restarted", { peer: conn.nodeId.slice(0, 8) });
      for (const fn of this.restartListeners) fn(conn.nodeId);
    } else if (old && old !== conn && old.open) {
      // Both nodes may dial each other at once; the newest connection wins, the old one drains.
      this.clock.setTimeout(() => old.close("replaced by a newer connection"), 5_000);
    }
    this.init.log.debug("peer connected", { peer: conn.nodeId.slice(0, 8), direction: conn.direction });
    for (const fn of this.connectListeners) fn(conn);
  }

  /** The open connection to a peer, dialling it when there is none. */
  connect(peer: PeerEndpoint): Promise<PeerConnection> {
    if (peer.nodeId === this.nodeId) return Promise.reject(new IconError("INVALID_INPUT", "a node cannot connect to itself"));
    const open = this.byNode.get(peer.nodeId);
    if (open?.open) return Promise.resolve(open);
    let p = this.dialing.get(peer.nodeId);
    if (!p) {
      p = this.dial(peer).finally(() => this.dialing.delete(peer.nodeId));
      this.dialing.set(peer.nodeId, p);
    }
    return p;
  }

  connection(nodeId: string): PeerConnection | undefined {
    const c = this.byNode.get(nodeId);
    return c?.open ? c : undefined;
  }

  /** The open connection to a node, else a dial to where it was last heard of; undefined when neither exists. */
  async reach(nodeId: string): Promise<PeerConnection | undefined> {
    const ep = this.known.get(nodeId);
    return this.connection(nodeId) ?? (ep && this.connect(ep));
  }

  /** Where a peer accepts connections, when this node has heard it (dialled it, or it said on dialling us). */
  endpointOf(nodeId: string): PeerEndpoint | undefined {
    return this.known.get(nodeId);
  }

  connections(): PeerConnection[] {
    return [...this.byNode.values()].filter((c) => c.open);
  }

  private dial(peer: PeerEndpoint): Promise<PeerConnection> {
    const headers = handshakeHeaders(this.init.identity, peer.nodeId, this.endpoint, this.boot);
    const url = `ws://${peer.address}:${peer.port}${WS_PATH}`;
    const timeoutMs = this.init.connectTimeoutMs ?? 5_000;
    return new Promise<PeerConnection>((resolve, reject) => {
      const ws = new WebSocket(url, { headers } as unknown as string[]);
      ws.binaryType = "arraybuffer";
      let conn: PeerConnection | undefined;
      const fail = (why: string, code: "UNREACHABLE" | "UNAUTHORIZED" | "TIMEOUT" = "UNREACHABLE") => {
        this.clock.clearTimeout(timer);
        if (conn) return conn.closed(why);
        try {
          ws.close();
        } catch {}
        reject(new IconError(code, `cannot connect to peer ${peer.nodeId.slice(0, 8)} at ${peer.address}:${peer.port}: ${why}`,
          "Check that the node runs and that its peer port is reachable from here."));
      };
      const timer = this.clock.setTimeout(() => fail(`no answer within ${timeoutMs} ms`, "TIMEOUT"), timeoutMs);
      ws.onmessage = (ev) => {
        const data = typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data as ArrayBuffer);
        if (conn) return conn.receive(data);
        const f = typeof data === "string" ? parseFrame(data) : undefined;
        const boot = f?.t === "welcome" ? verifyWelcome(f, peer.nodeId, this.init.identity, headers[HEADER.nonce]!) : undefined;
        if (boot === undefined) return fail("the peer did not prove it is the node we asked for", "UNAUTHORIZED");
        this.clock.clearTimeout(timer);
        conn = new PeerConnection(
          { send: (d) => ws.send(d), close: (c, r) => ws.close(c, r), buffered: () => ws.bufferedAmount },
          peer.nodeId, "out", { address: peer.address, port: peer.port }, boot, this.handlers, this.init.log, this.clock,
        );
        this.remember(peer);
        this.register(conn);
        resolve(conn);
      };
      ws.onerror = () => fail("connection failed");
      ws.onclose = (ev) => fail(`closed (${ev.code}${ev.reason ? " " + ev.reason : ""})`);
    });
  }

  private remember(peer: PeerEndpoint): void {
    this.known.set(peer.nodeId, peer);
  }

  private get knownFile(): string | undefined {
    return this.init.dataDir ? join(this.init.dataDir, "peers.json") : undefined;
  }

  /** Dials the peers of the last run in the background, so they find us connected. */
  private async loadKnown(): Promise<void> {
    const file = this.knownFile;
    if (!file || !(await Bun.file(file).exists())) return;
    try {
      const list = (await Bun.file(file).json()) as PeerEndpoint[];
      for (const p of list.slice(0, 64)) {
        if (typeof p.nodeId !== "string" || typeof p.address !== "string" || typeof p.port !== "number") continue;
        this.remember(p);
        this.connect(p).catch((e) => this.init.log.debug("could not redial a known peer", { peer: p.nodeId.slice(0, 8), error: e }));
      }
    } catch (e) {
      this.init.log.warn("ignoring an unreadable peers file", { path: file, error: e as Error });
    }
  }

  async stop(): Promise<void> {
    const file = this.knownFile;
    if (file) await Bun.write(file, JSON.stringify([...this.known.values()].slice(-64)) + "\n").catch(() => {});
    for (const c of this.byNode.values()) c.close("node stopping");
    this.byNode.clear();
    await this.server?.stop(true);
  }
}
