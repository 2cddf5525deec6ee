/**
 * The orchestrator's end of one ICON's runtime socket (`<data-dir>/icons/<name>/sock/icon.sock`, seen as
 * /run/icon/icon.sock in the container). Whoever connects here IS that ICON: the socket, not anything in
 * the messages, says which ICON speaks (DESIGN.md security model).
 *
 * Everything a container sends is bounded: line length (MAX_LINE_BYTES; longer lines are answered with
 * an error and skipped), request rate (token bucket), requests in flight, buffered output, and
 * connections. Malformed JSON gets an error answer and the connection stays open; a connection that
 * keeps flooding after being told is closed. None of it can harm the node.
 */
import { chmodSync, closeSync, constants, fstatSync, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { MAX_LINE_BYTES, type Answer, type Event, type Request } from "./protocol.ts";
import { IconError, toIconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { checkRequest } from "./request-check.ts";

export const LIMITS = {
  maxConnections: 4,
  /** Sustained requests per second per connection, and the burst allowed above it. */
  ratePerSec: 50,
  burst: 100,
  /** Lines refused in a row (rate, size, JSON) before the connection is closed. */
  maxRejectedInRow: 200,
  maxInFlight: 32,
  maxOutboxBytes: 1 << 20,
};

export interface RuntimeConn {
  readonly id: number;
  /** True once hello succeeded. */
  readonly greeted: boolean;
  send(event: Event): void;
}

export interface RuntimeHandler {
  /** Answers one checked request (hello included); throw an IconError to answer an error. */
  handle(req: Request, conn: RuntimeConn): Promise<unknown>;
  disconnected?(conn: RuntimeConn): void;
}

type BunSocket = import("bun").Socket<ConnState>;

interface ConnState {
  conn?: Conn;
}

class Conn implements RuntimeConn {
  greeted = false;
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  private skipping = false;
  private tokens = LIMITS.burst;
  private lastRefill: number;
  private rejectedInRow = 0;
  private inFlight = 0;
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private readonly enc = new TextEncoder();
  private readonly dec = new TextDecoder();

  constructor(
    readonly id: number,
    private readonly socket: BunSocket,
    private readonly handler: RuntimeHandler,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.lastRefill = now();
  }

  send(event: Event | Answer): void {
    const bytes = this.enc.encode(JSON.stringify(event) + "\n");
    if (this.outboxBytes + bytes.length > LIMITS.maxOutboxBytes) {
      this.log.warn("ICON does not read its runtime socket; closing the connection", { conn: this.id });
      this.socket.end();
      return;
    }
    this.outbox.push(bytes);
    this.outboxBytes += bytes.length;
    this.flush();
  }

  flush(): void {
    while (this.outbox.length) {
      const chunk = this.outbox[0]!;
      const n = this.socket.write(chunk);
      if (n <= 0) {
        // What is left goes out on drain; at debug, so that an outbox that never drains shows.
        this.log.debug("runtime socket full: waiting for drain", { conn: this.id, queuedBytes: this.outboxBytes });
        return;
      }
      this.outboxBytes -= n;
      if (n < chunk.length) {
        this.outbox[0] = chunk.subarray(n);
        return;
      }
      this.outbox.shift();
    }
  }

  private refuse(id: number | null, err: IconError | { code: string; error: string; fix?: string }): void {
    const body = err instanceof IconError ? err.toJSON() : err;
    this.send({ id, ok: false, ...body });
    if (++this.rejectedInRow >= LIMITS.maxRejectedInRow) {
      this.log.warn("ICON keeps sending refused requests; closing its runtime connection", { conn: this.id });
      this.socket.end();
    }
  }

  onData(chunk: Uint8Array): void {
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      this.take(chunk.subarray(start, i), true);
      start = i + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start), false);
  }

  /** Accumulates bytes of the current line; `complete` when a newline ended it. */
  private take(piece: Uint8Array, complete: boolean): void {
    if (!this.skipping) {
      if (this.partialBytes + piece.length > MAX_LINE_BYTES) {
        this.partial = [];
        this.partialBytes = 0;
        this.skipping = true;
        this.refuse(null, new IconError("TOO_LARGE", `a line is longer than ${MAX_LINE_BYTES} bytes; it was skipped`, "Send smaller messages (state and data are bounded)."));
      } else {
        this.partial.push(piece.slice()); // the runtime may reuse the chunk's buffer
        this.partialBytes += piece.length;
      }
    }
    if (!complete) return;
    const wasSkipping = this.skipping;
    this.skipping = false;
    const parts = this.partial;
    this.partial = [];
    this.partialBytes = 0;
    if (wasSkipping) return;
    const line = this.dec.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts)).trim();
    if (line) this.onLine(line);
  }

  private allow(): boolean {
    const t = this.now();
    this.tokens = Math.min(LIMITS.burst, this.tokens + ((t - this.lastRefill) / 1000) * LIMITS.ratePerSec);
    this.lastRefill = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private onLine(line: string): void {
    if (!this.allow()) {
      this.refuse(null, { code: "RATE_LIMITED", error: `more than ${LIMITS.ratePerSec} requests per second; request dropped`, fix: "Slow down; cache answers such as findCloser per client." });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      this.refuse(null, new IconError("INVALID_INPUT", `not JSON: ${(e as Error).message}`, "Send one JSON object per line (the icon-runtime library does)."));
      return;
    }
    const rawId = (parsed as { id?: unknown })?.id;
    const id = typeof rawId === "number" && Number.isSafeInteger(rawId) ? rawId : null;
    let req: Request;
    try {
      req = checkRequest(parsed);
      if (req.op !== "hello" && !this.greeted) throw new IconError("INVALID_INPUT", "say hello first", "Send {op: \"hello\", protocol} as the first request.");
      if (this.inFlight >= LIMITS.maxInFlight) throw new IconError("TOO_LARGE", `more than ${LIMITS.maxInFlight} requests in flight`, "Await answers before sending more.");
    } catch (e) {
      this.refuse(id, toIconError(e));
      return;
    }
    this.rejectedInRow = 0;
    this.inFlight++;
    // At debug, each request and its answer by id: whether a call the ICON waits on was ever answered.
    this.log.debug("runtime request", { conn: this.id, id: req.id, op: req.op });
    this.handler.handle(req, this).then(
      (result) => {
        if (req.op === "hello") this.greeted = true;
        this.log.debug("runtime answer", { conn: this.id, id: req.id, op: req.op, ok: true });
        this.send({ id: req.id, ok: true, result: result ?? null });
      },
      (e) => {
        const err = toIconError(e);
        if (err.code === "INTERNAL") this.log.error("runtime request failed", { op: req.op, error: e as Error });
        this.log.debug("runtime answer", { conn: this.id, id: req.id, op: req.op, ok: false, code: err.code });
        this.send({ id: req.id, ok: false, ...err.toJSON() });
      },
    ).finally(() => this.inFlight--);
  }
}

/** Linux O_PATH: a handle on the file itself, whatever its type, that reads nothing. */
const O_PATH = 0o10000000;

/**
 * chmod of the socket the node just made, never of what a symlink in its place points to: the file is
 * opened without following links, checked to be a socket, and changed through its handle.
 */
export function chmodSocket(path: string, mode: number): void {
  const fd = openSync(path, O_PATH | constants.O_NOFOLLOW);
  try {
    if (!fstatSync(fd).isSocket()) throw new IconError("CONFLICT", `${path} is not the socket the node made`, "Stop the ICON and remove it; its socket directory was tampered with.");
    chmodSync(`/proc/self/fd/${fd}`, mode);
  } finally {
    closeSync(fd);
  }
}

export class RuntimeSocket {
  private readonly conns = new Set<Conn>();
  private nextId = 1;
  private listener?: import("bun").UnixSocketListener<ConnState>;

  private constructor(
    readonly path: string,
    private readonly handler: RuntimeHandler,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Listens on `path`, replacing a stale socket file left by a node that was killed. */
  static async listen(path: string, handler: RuntimeHandler, log: Logger, now: () => number = Date.now): Promise<RuntimeSocket> {
    const rs = new RuntimeSocket(path, handler, log, now);
    await rm(path, { force: true });
    rs.listener = Bun.listen<ConnState>({
      unix: path,
      socket: {
        open: (s) => rs.open(s),
        data: (s, chunk) => s.data?.conn?.onData(chunk),
        drain: (s) => s.data?.conn?.flush(),
        close: (s) => rs.closed(s),
        error: (s) => rs.closed(s),
      },
    });
    // The container's user is not root: it must be able to connect. Host users cannot reach the
    // directory (the data dir is 0700), and the container sees only this directory.
    chmodSocket(path, 0o666);
    return rs;
  }

  private open(s: BunSocket): void {
    if (this.conns.size >= LIMITS.maxConnections) {
      s.write(JSON.stringify({ id: null, ok: false, code: "CONFLICT", error: `more than ${LIMITS.maxConnections} connections`, fix: "Use one connection per ICON." }) + "\n");
      s.end();
      return;
    }
    const conn = new Conn(this.nextId++, s, this.handler, this.log, this.now);
    s.data = { conn };
    this.conns.add(conn);
  }

  private closed(s: BunSocket): void {
    const conn = s.data?.conn;
    if (!conn || !this.conns.delete(conn)) return;
    this.handler.disconnected?.(conn);
  }

  /** Sends an event on every greeted connection; false when none was there to receive it. */
  broadcast(event: Event): boolean {
    let sent = false;
    for (const c of this.conns)
      if (c.greeted) {
        c.send(event);
        sent = true;
      }
    if (event.event === "replica") this.log.debug("replica status to the ICON", { replica: event.replica, state: event.state, sent });
    return sent;
  }

  get connections(): number {
    return this.conns.size;
  }

  async close(): Promise<void> {
    this.listener?.stop(true);
    this.listener = undefined;
    this.conns.clear();
    await rm(this.path, { force: true });
  }
}
