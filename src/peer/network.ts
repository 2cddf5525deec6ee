/**
 * The peer network of one node: a server on the peer port that accepts websockets and runs the
 * accepting side of the Noise handshake (auth.ts), a dialer that runs the other side, and a pool that
 * keeps one open, encrypted connection per peer node and hands it to whichever side needs it next.
 * The port's limits (limits.ts) keep what one source can hold bounded. A node restarted dials the peers
 * it knew, so the first request after a restart does not pay for a new handshake on the critical path.
 */
import type { Server, ServerWebSocket } from "bun";
import { Hono } from "hono";
import { installErrorHandler } from "../api/http.ts";
import { HTTP_STATUS, IconError, toIconError } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import { TokenBuckets } from "../dht/rate-limit.ts";
import { realClock, type Clock, type TimerHandle } from "../util/clock.ts";
import { LocalPeer, NOISE_HEADER, finishAccept, newBootId, type PeerHello } from "./auth.ts";
import { SecureChannel, type RawSocket } from "./channel.ts";
import { PeerConnection, type Handlers, type MessageHandler, type RequestHandler } from "./connection.ts";
import { PeerEndpoints, type PeerEndpoint } from "./endpoints.ts";
import { InboundLimits, type InboundLimitsConfig, type InboundSlot } from "./limits.ts";
import { MAX_MESSAGE_BYTES, type XXHandshake } from "./noise.ts";
import { WS_PATH } from "./protocol.ts";
import { bindAddresses, familyOf, hostPort } from "../util/ipv6.ts";

export type { PeerEndpoint } from "./endpoints.ts";

export interface PeerNetworkInit {
  identity: Identity;
  log: Logger;
  listen: string;
  /** IPv6 address to listen on too (config listen6: "" is :: with listen 0.0.0.0, "off" none). @default "off" */
  listen6?: string;
  port: number;
  /** The address other nodes reach this one at (advertised or learned). */
  advertisedAddress: () => string;
  /** The IPv6 address other nodes reach this one at, if it has one: claimed when dialling over IPv6. */
  advertisedAddress6?: () => string | undefined;
  /** Where known peers are saved between runs; none in tests that do not care. */
  dataDir?: string;
  connectTimeoutMs?: number;
  /** What one source may hold on the peer port. @default DEFAULT_INBOUND_LIMITS */
  limits?: Partial<InboundLimitsConfig>;
  /** Request and connect timeouts. @default realClock */
  clock?: Clock;
}

type WsData = {
  ip: string;
  slot: InboundSlot;
  hs: XXHandshake;
  reply: Uint8Array;
  timer?: TimerHandle;
  channel?: SecureChannel;
  conn?: PeerConnection;
};

export class PeerNetwork {
  /** One dual-stack server on ::, or one per bound address (all on one port). */
  private servers: Server<WsData>[] = [];
  private readonly byNode = new Map<string, PeerConnection>();
  private readonly dialing = new Map<string, Promise<PeerConnection>>();
  private readonly endpoints: PeerEndpoints;
  private readonly handlers: Handlers = { requests: new Map(), messages: new Map() };
  private readonly connectListeners: ((c: PeerConnection) => void)[] = [];
  private readonly restartListeners: ((nodeId: string) => void)[] = [];
  private readonly local: LocalPeer;
  private readonly probing = new Set<string>();
  /** Endpoint probes per second, all peers together. */
  private readonly probeRate: TokenBuckets;
  readonly limits: InboundLimits;
  readonly nodeId: string;
  /** This process's boot id, sent in every handshake. */
  readonly boot = newBootId();
  readonly http = new Hono();
  private readonly clock: Clock;

  constructor(private readonly init: PeerNetworkInit) {
    this.clock = init.clock ?? realClock;
    this.local = new LocalPeer(init.identity, this.boot);
    this.nodeId = this.local.nodeId;
    this.limits = new InboundLimits(this.clock, init.limits);
    this.probeRate = new TokenBuckets(this.clock, 5, 20, 1);
    this.endpoints = new PeerEndpoints(init.dataDir, init.log);
    installErrorHandler(this.http, (e) => init.log.error("peer HTTP request failed", { error: e as Error }));
    // Only what a dialler needs to name the node it reaches; no version to help pick an exploit.
    this.http.get("/v1/peer/info", (c) => c.json({ nodeId: this.nodeId }));
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
    return this.servers[0]?.port ?? this.init.port;
  }

  get endpoint(): string {
    return hostPort(this.init.advertisedAddress(), this.port);
  }

  /** This node's advertised address of a family, if it has one. */
  ownAddress(family: 4 | 6): string | undefined {
    return family === 4 ? this.init.advertisedAddress() : this.init.advertisedAddress6?.();
  }

  /** The endpoint this node claims to a peer it dials: its address of the family it dials over. */
  private claimFor(peerAddress: string): string {
    const six = familyOf(peerAddress) === 6 ? this.init.advertisedAddress6?.() : undefined;
    return six ? hostPort(six, this.port) : this.endpoint;
  }

  async start(): Promise<void> {
    const { address, address6, dual } = bindAddresses(this.init.listen, this.init.listen6 ?? "off");
    for (const hostname of dual ? ["::"] : [address, address6].filter((a) => a !== undefined)) {
      const port = this.servers[0]?.port ?? this.init.port;
      try {
        this.servers.push(this.serve(hostname, port));
      } catch (e) {
        if (!dual) throw e;
        this.servers.push(this.serve("0.0.0.0", port)); // a kernel without IPv6 refuses "::", as for the DHT
      }
    }
    for (const p of await this.endpoints.load())
      this.connect(p).catch((e) => this.init.log.debug("could not redial a known peer", { peer: p.nodeId.slice(0, 8), error: e }));
  }

  private serve(hostname: string, port: number): Server<WsData> {
    try {
      return Bun.serve<WsData>({
        hostname,
        port,
        maxRequestBodySize: 64 * 1024,
        fetch: (req, server) => this.upgrade(req, server),
        websocket: {
          maxPayloadLength: MAX_MESSAGE_BYTES,
          idleTimeout: 120,
          sendPings: true,
          open: (ws) => {
            ws.data.slot.evict = () => ws.close(1013, "room made for another peer");
            if (!this.limits.holds(ws.data.slot)) return ws.close(1013, "room made for another peer");
            ws.send(ws.data.reply);
            ws.data.timer = this.clock.setTimeout(() => {
              this.limits.counters.handshakeTimeout++;
              ws.close(1008, "handshake not finished in time");
            }, this.limits.config.handshakeTimeoutMs);
          },
          message: (ws, data) => this.inbound(ws, typeof data === "string" ? data : new Uint8Array(data)),
          close: (ws, code, reason) => {
            this.clock.clearTimeout(ws.data.timer);
            this.limits.release(ws.data.slot);
            ws.data.conn?.closed(`closed by peer (${code}${reason ? " " + reason : ""})`);
          },
        },
      });
    } catch (e) {
      for (const s of this.servers) void s.stop(true);
      throw new IconError("CONFLICT", `cannot listen for peers on ${hostPort(hostname, port)}: ${(e as Error).message}`,
        "Pick a free --peer-port (0 picks one), or stop what holds the port.");
    }
  }

  /** Plain HTTP, or a handshake's first message: refused by the limits before any work is done for it. */
  private upgrade(req: Request, server: Server<WsData>): Response | Promise<Response> | undefined {
    const ip = server.requestIP(req)?.address ?? "";
    const refuse = (e: IconError) => Response.json(e.toJSON(), { status: HTTP_STATUS[e.code] });
    if (new URL(req.url).pathname !== WS_PATH) {
      if (!this.limits.allowHttp(ip)) return refuse(new IconError("RATE_LIMITED", "too many requests from your network", "Ask less often."));
      return this.http.fetch(req);
    }
    const slot = this.limits.admit(ip);
    if (slot instanceof IconError) return refuse(slot);
    try {
      const { hs, reply } = this.local.accept(req.headers.get(NOISE_HEADER));
      if (server.upgrade(req, { data: { ip, slot, hs, reply } })) return undefined;
      throw new IconError("INVALID_INPUT", "websocket upgrade failed");
    } catch (e) {
      this.limits.release(slot);
      this.limits.counters.badHandshake++;
      this.init.log.debug("refused a peer handshake", { from: ip, reason: (e as Error).message });
      return refuse(toIconError(e));
    }
  }

  /** A message on an accepted socket: handshake message 3 first, then encrypted frames. */
  private inbound(ws: ServerWebSocket<WsData>, data: string | Uint8Array): void {
    const d = ws.data;
    d.slot.lastActivity = this.clock.now();
    if (d.conn) return this.deliver(d.channel!, d.conn, data);
    let hello: PeerHello;
    try {
      if (typeof data === "string") throw new IconError("UNAUTHORIZED", "handshake message 3 must be binary");
      const { peer, keys } = finishAccept(d.hs, data);
      hello = peer;
      d.channel = new SecureChannel({ send: (m) => void ws.send(m), close: (c, r) => ws.close(c, r), buffered: () => ws.getBufferedAmount() }, keys);
    } catch (e) {
      this.limits.counters.badHandshake++;
      this.init.log.debug("peer handshake failed", { from: d.ip, reason: (e as Error).message });
      return ws.close(1008, "handshake failed");
    }
    this.clock.clearTimeout(d.timer);
    if (hello.probe) return ws.close(1000, "endpoint verified");
    d.slot.handshaking = false;
    d.conn = new PeerConnection(d.channel, hello.nodeId, "in", hello.endpoint, hello.boot, d.ip.replace(/^::ffff:/, ""), this.handlers, this.init.log, this.clock);
    if (hello.endpoint) this.checkClaim({ nodeId: hello.nodeId, ...hello.endpoint }, d.ip);
    this.register(d.conn);
  }

  /**
   * A peer that dialled in claims an endpoint. A claim of the address it dialled from is probed at once
   * (a handshake that ends there), so that the endpoint is known and saved for the next run; a claim
   * of any other address is never dialled on its own: nobody can make this node dial a third party.
   */
  private checkClaim(ep: PeerEndpoint, fromIp: string): void {
    if (!this.endpoints.claim(ep) || ep.address !== fromIp.replace(/^::ffff:/, "") || this.probing.has(ep.nodeId)) return;
    if (!this.probeRate.take("all")) return void this.limits.counters.probeRate++;
    this.probing.add(ep.nodeId);
    this.dial(ep, true)
      .catch((e) => this.init.log.debug("a peer's endpoint claim did not answer as that node", { peer: ep.nodeId.slice(0, 8), error: e as Error }))
      .finally(() => this.probing.delete(ep.nodeId));
  }

  /** Decrypts a frame for a connection; anything that fails authentication closes it. */
  private deliver(channel: SecureChannel, conn: PeerConnection, data: string | Uint8Array): void {
    let frame: string | Uint8Array | undefined;
    try {
      frame = channel.open(data);
    } catch (e) {
      this.limits.counters.badFrame++;
      this.init.log.warn("closing a peer connection: a frame failed authentication", { peer: conn.nodeId.slice(0, 8), reason: (e as Error).message });
      return conn.close("a frame failed authentication");
    }
    if (frame !== undefined) conn.receive(frame);
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

  /**
   * The open connection to a peer, dialling it when there is none. `sameFamily`: dial anew when the open
   * one runs over the other address family (a dial-back over IPv6 needs an IPv6 connection); the new
   * connection replaces the old as any newer one does.
   */
  connect(peer: PeerEndpoint, opts: { sameFamily?: boolean } = {}): Promise<PeerConnection> {
    if (peer.nodeId === this.nodeId) return Promise.reject(new IconError("INVALID_INPUT", "a node cannot connect to itself"));
    const open = this.byNode.get(peer.nodeId);
    if (open?.open && !(opts.sameFamily && familyOf(open.remoteIp) !== familyOf(peer.address))) return Promise.resolve(open);
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
    const ep = this.endpoints.get(nodeId);
    return this.connection(nodeId) ?? (ep && this.connect(ep));
  }

  /** Where a peer accepts connections: where this node dialled it, else what it claimed when it dialled in. */
  endpointOf(nodeId: string): PeerEndpoint | undefined {
    return this.endpoints.get(nodeId);
  }

  connections(): PeerConnection[] {
    return [...this.byNode.values()].filter((c) => c.open);
  }

  /** What the peer port holds and what its limits refused, for the component's status. */
  status() {
    return { connections: this.connections().length, inbound: this.limits.size, endpoints: this.endpoints.sizes, refused: { ...this.limits.counters } };
  }

  /** Whether node `ep.nodeId` answers a handshake at `ep` (a probe: it proves its id, and the connection ends there). */
  async probe(ep: PeerEndpoint): Promise<boolean> {
    return this.dial(ep, true).then(() => true, () => false);
  }

  /** Opens a connection; a probe only proves the endpoint and closes (resolving undefined). */
  private dial(peer: PeerEndpoint): Promise<PeerConnection>;
  private dial(peer: PeerEndpoint, probe: true): Promise<undefined>;
  private dial(peer: PeerEndpoint, probe = false): Promise<PeerConnection | undefined> {
    const { header, hs } = this.local.dial(peer.nodeId);
    const url = `ws://${hostPort(peer.address, peer.port)}${WS_PATH}`;
    const timeoutMs = this.init.connectTimeoutMs ?? 5_000;
    return new Promise<PeerConnection | undefined>((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { [NOISE_HEADER]: header } } as unknown as string[]);
      ws.binaryType = "arraybuffer";
      let channel: SecureChannel | undefined;
      let conn: PeerConnection | undefined;
      const fail = (why: string, code: "UNREACHABLE" | "UNAUTHORIZED" | "TIMEOUT" = "UNREACHABLE") => {
        this.clock.clearTimeout(timer);
        if (conn) return conn.closed(why);
        try {
          ws.close();
        } catch {}
        reject(new IconError(code, `cannot connect to peer ${peer.nodeId.slice(0, 8)} at ${hostPort(peer.address, peer.port)}: ${why}`,
          "Check that the node runs and that its peer port is reachable from here."));
      };
      const timer = this.clock.setTimeout(() => fail(`no answer within ${timeoutMs} ms`, "TIMEOUT"), timeoutMs);
      ws.onmessage = (ev) => {
        const data = typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data as ArrayBuffer);
        if (conn) return this.deliver(channel!, conn, data);
        let done: ReturnType<LocalPeer["finishDial"]>;
        try {
          if (typeof data === "string") throw new IconError("UNAUTHORIZED", "handshake message 2 must be binary");
          done = this.local.finishDial(hs, data, peer.nodeId, this.claimFor(peer.address), probe);
          ws.send(done.message3);
        } catch (e) {
          return fail((e as Error).message, "UNAUTHORIZED");
        }
        this.clock.clearTimeout(timer);
        this.endpoints.verified(peer);
        if (probe) return resolve(undefined); // the other side closes
        channel = new SecureChannel(rawClient(ws), done.keys);
        conn = new PeerConnection(channel, peer.nodeId, "out", { address: peer.address, port: peer.port }, done.peer.boot, peer.address, this.handlers, this.init.log, this.clock);
        this.register(conn);
        resolve(conn);
      };
      ws.onerror = () => fail("connection failed");
      ws.onclose = (ev) => fail(`closed (${ev.code}${ev.reason ? " " + ev.reason : ""})`);
    });
  }

  async stop(): Promise<void> {
    await this.endpoints.save();
    for (const c of this.byNode.values()) c.close("node stopping");
    this.byNode.clear();
    await Promise.all(this.servers.map((s) => s.stop(true)));
  }
}

function rawClient(ws: WebSocket): RawSocket {
  return { send: (m) => ws.send(m), close: (c, r) => ws.close(c, r), buffered: () => ws.bufferedAmount };
}
