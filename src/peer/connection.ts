/**
 * One authenticated, encrypted peer websocket, whichever side opened it: request/response with ids and a timer
 * each (a timeout is an error value for the caller, never a hang), progress events, one-way messages,
 * and bulk binary data answering a request.
 */
import { IconError, fromErrorBody, toIconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import { CHUNK_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, MAX_FRAME_BYTES, MAX_JSON_BYTES, attachedFrame, binaryFrame, parseFrame, type Frame } from "./protocol.ts";

/** What a connection needs from the websocket under it (Bun's server or client socket). */
export interface FrameSocket {
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet sent, for backpressure on bulk data. */
  buffered(): number;
}

export interface RequestContext {
  peer: PeerConnection;
  /** Sends a progress event to the requester. */
  emit(event: unknown): void;
  /** Streams bulk data to the requester (awaits when the socket's buffer is full). */
  sendData(chunk: Uint8Array): Promise<void>;
  /** Bytes the requester attached to the request, if any. */
  attachment?: Uint8Array;
}
export type RequestHandler = (body: unknown, ctx: RequestContext) => Promise<unknown>;
export type MessageHandler = (body: unknown, peer: PeerConnection) => void;

export interface Handlers {
  requests: Map<string, RequestHandler>;
  messages: Map<string, MessageHandler>;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Bytes sent with the request in the same frame (below MAX_FRAME_BYTES with the JSON). */
  attachment?: Uint8Array;
  onEvent?: (event: unknown) => void;
  onData?: (chunk: Uint8Array) => void;
  signal?: AbortSignal;
}

interface Pending {
  op: string;
  resolve(v: unknown): void;
  reject(e: IconError): void;
  timer: TimerHandle;
  /** Starts the request's timeout again (bulk data arriving is progress). */
  rearm(): void;
  opts: RequestOptions;
}

const HIGH_WATER = 4 << 20;

export class PeerConnection {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private closedReason?: string;
  private readonly closeListeners: ((reason: string) => void)[] = [];
  readonly openedAt: number;
  lastActivity: number;

  constructor(
    private readonly socket: FrameSocket,
    readonly nodeId: string,
    readonly direction: "in" | "out",
    /** Where the peer accepts connections, when known. */
    readonly endpoint: { address: string; port: number } | undefined,
    /** The peer process's boot id: another one from the same node means the node restarted. */
    readonly boot: string,
    /** The IP this connection comes from (inbound) or was dialled at (outbound): what a dial-back dials. */
    readonly remoteIp: string,
    private readonly handlers: Handlers,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.openedAt = this.lastActivity = clock.now();
  }

  get open(): boolean {
    return this.closedReason === undefined;
  }

  onClose(fn: (reason: string) => void): void {
    this.closeListeners.push(fn);
  }

  request<T = unknown>(op: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
    if (!this.open) return Promise.reject(this.gone());
    const id = this.nextId++;
    const text = JSON.stringify({ t: "req", id, op, body });
    if (text.length > MAX_JSON_BYTES || text.length + (opts.attachment?.length ?? 0) > MAX_FRAME_BYTES) return Promise.reject(new IconError("TOO_LARGE", `peer request ${op} is ${text.length} bytes; the limit is ${MAX_JSON_BYTES}`, "Hand less state to the replica."));
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const expire = () => {
        this.pending.delete(id);
        reject(new IconError("TIMEOUT", `peer ${this.nodeId.slice(0, 8)} did not answer ${op} within ${timeoutMs} ms`, "Check that the peer node is running and reachable."));
      };
      const p: Pending = {
        op, resolve: resolve as (v: unknown) => void, reject, opts,
        timer: this.clock.setTimeout(expire, timeoutMs),
        rearm: () => {
          this.clock.clearTimeout(p.timer);
          p.timer = this.clock.setTimeout(expire, timeoutMs);
        },
      };
      this.pending.set(id, p);
      opts.signal?.addEventListener("abort", () => this.settle(id, undefined, new IconError("FAILED", `${op} was cancelled`)), { once: true });
      this.socket.send(opts.attachment ? attachedFrame(text, opts.attachment) : text);
    });
  }

  notify(op: string, body: unknown): boolean {
    if (!this.open) return false;
    this.socket.send(JSON.stringify({ t: "msg", op, body }));
    return true;
  }

  /** Feeds a frame received from the socket. */
  receive(data: string | Uint8Array): void {
    this.lastActivity = this.clock.now();
    if (typeof data !== "string") return this.receiveBinary(data);
    const frame = parseFrame(data);
    if (!frame) {
      this.log.warn("dropping a malformed peer frame", { peer: this.nodeId.slice(0, 8), bytes: data.length });
      return;
    }
    switch (frame.t) {
      case "req":
        return void this.serve(frame);
      case "res":
        return frame.ok ? this.settle(frame.id, frame.body) : this.settle(frame.id, undefined, fromErrorBody(frame.error, "peer request failed"));
      case "evt":
        return this.pending.get(frame.id)?.opts.onEvent?.(frame.body);
      case "msg": {
        const h = this.handlers.messages.get(frame.op);
        if (!h) return this.log.debug("no handler for peer message", { op: frame.op });
        try {
          h(frame.body, this);
        } catch (e) {
          this.log.warn("peer message handler failed", { op: frame.op, error: e as Error });
        }
        return;
      }
    }
  }

  private receiveBinary(data: Uint8Array): void {
    if (data.length < 4) return;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const id = view.getUint32(0);
    if (id === 0) {
      const len = data.length >= 8 ? view.getUint32(4) : Infinity;
      const frame = len <= data.length - 8 ? parseFrame(new TextDecoder().decode(data.subarray(8, 8 + len))) : undefined;
      if (frame?.t !== "req") return this.log.warn("dropping a malformed peer frame", { peer: this.nodeId.slice(0, 8), bytes: data.length });
      return void this.serve(frame, data.slice(8 + len));
    }
    const p = this.pending.get(id);
    if (!p) return;
    p.rearm(); // bulk data in flight counts as progress
    p.opts.onData?.(data.subarray(4));
  }

  private async serve(frame: Extract<Frame, { t: "req" }>, attachment?: Uint8Array): Promise<void> {
    const handler = this.handlers.requests.get(frame.op);
    const reply = (f: object) => this.open && this.socket.send(JSON.stringify(f));
    if (!handler) return void reply({ t: "res", id: frame.id, ok: false, error: { error: `unknown peer operation "${frame.op}"`, code: "NOT_FOUND", fix: "Upgrade the older of the two nodes." } });
    const ctx: RequestContext = {
      peer: this,
      attachment,
      emit: (event) => reply({ t: "evt", id: frame.id, body: event }),
      sendData: async (chunk) => {
        for (let off = 0; off < chunk.length; off += CHUNK_BYTES) {
          while (this.open && this.socket.buffered() > HIGH_WATER) await Bun.sleep(2);
          if (!this.open) throw this.gone();
          this.socket.send(binaryFrame(frame.id, chunk.subarray(off, off + CHUNK_BYTES)));
        }
      },
    };
    try {
      const body = await handler(frame.body, ctx);
      reply({ t: "res", id: frame.id, ok: true, body: body ?? null });
    } catch (e) {
      const err = toIconError(e);
      if (err.code === "INTERNAL") this.log.error("peer request handler failed", { op: frame.op, error: e as Error });
      reply({ t: "res", id: frame.id, ok: false, error: err.toJSON() });
    }
  }

  private settle(id: number, value: unknown, error?: IconError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.clock.clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(value);
  }

  private gone(): IconError {
    return new IconError("UNREACHABLE", `connection to peer ${this.nodeId.slice(0, 8)} closed: ${this.closedReason ?? "closed"}`, "The peer node stopped or the network dropped; it is dialled again on the next request.");
  }

  /** Called when the socket closed; fails everything in flight. */
  closed(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const id of [...this.pending.keys()]) this.settle(id, undefined, this.gone());
    for (const fn of this.closeListeners) fn(reason);
  }

  close(reason = "closed by this node"): void {
    try {
      this.socket.close(1000, reason);
    } catch {}
    this.closed(reason);
  }
}
