/**
 * The ICON's end of the runtime socket: newline-delimited JSON, numbered requests, pushed events.
 * It reconnects on its own when the orchestrator restarts (the node can be restarted under running
 * ICONs), says hello again and lets the caller replay what must survive (ready, policy).
 */
import { MAX_LINE_BYTES, PROTOCOL_VERSION, type Answer, type Event, type HelloResult, type Op, type Request, type Results } from "./protocol.ts";

export class IconRuntimeError extends Error {
  override readonly name = "IconRuntimeError";
  constructor(
    readonly code: string,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

type Args<O extends Op> = Omit<Extract<Request, { op: O }>, "id" | "op">;
interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}
type BunSocket = Awaited<ReturnType<typeof Bun.connect>>;

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;

export interface ConnectionOptions {
  socketPath: string;
  runtime: string;
  onEvent(e: Event): void;
  /** After every (re)connect and hello: replay state the orchestrator must know again. */
  onHello(hello: HelloResult, replay: <O extends Op>(op: O, args: Args<O>) => Promise<Results[O]>): void;
}

export class Connection {
  private socket?: BunSocket;
  private helloDone = false;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests made while disconnected; sent after the next hello. */
  private queue: { send(): void; reject(e: Error): void }[] = [];
  private partial = "";
  private outbox: Uint8Array[] = [];
  private backoff = MIN_BACKOFF_MS;
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();

  constructor(private readonly opts: ConnectionOptions) {
    void this.connect();
  }

  get connected(): boolean {
    return this.helloDone;
  }

  request<O extends Op>(op: O, args: Args<O>): Promise<Results[O]> {
    if (this.closed) return Promise.reject(new IconRuntimeError("CLOSED", "the ICON runtime connection is closed"));
    return new Promise<Results[O]>((resolve, reject) => {
      const send = () => this.send(op, args, resolve as (v: unknown) => void, reject);
      if (this.helloDone) send();
      else this.queue.push({ send, reject });
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
    this.failPending("CLOSED", "the ICON runtime connection is closed");
    for (const q of this.queue.splice(0)) q.reject(new IconRuntimeError("CLOSED", "the ICON runtime connection is closed"));
  }

  private send(op: string, args: object, resolve: (v: unknown) => void, reject: (e: Error) => void): void {
    const id = this.nextId++;
    this.pending.set(id, { resolve, reject });
    this.write(JSON.stringify({ id, op, ...args }) + "\n");
  }

  private write(line: string): void {
    this.outbox.push(this.encoder.encode(line));
    this.flush();
  }

  private flush(): void {
    const s = this.socket;
    while (s && this.outbox.length) {
      const chunk = this.outbox[0]!;
      const n = s.write(chunk);
      if (n < chunk.length) {
        this.outbox[0] = chunk.subarray(Math.max(n, 0));
        return; // the rest goes out on drain
      }
      this.outbox.shift();
    }
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    try {
      this.socket = await Bun.connect({
        unix: this.opts.socketPath,
        socket: {
          data: (_s, chunk) => this.onData(chunk),
          drain: () => this.flush(),
          close: () => this.onClose(),
          error: () => this.onClose(),
        },
      });
    } catch {
      this.retry();
      return;
    }
    this.backoff = MIN_BACKOFF_MS;
    this.partial = "";
    this.outbox = [];
    this.send("hello", { protocol: PROTOCOL_VERSION, runtime: this.opts.runtime }, (r) => this.onHelloAnswer(r as HelloResult), (e) => {
      // A refused hello (unsupported protocol) will not get better by retrying quickly.
      process.stderr.write(`icon-runtime: the orchestrator refused hello: ${e.message}\n`);
      this.socket?.end();
    });
  }

  private onHelloAnswer(hello: HelloResult): void {
    this.helloDone = true;
    const replay = <O extends Op>(op: O, args: Args<O>) =>
      new Promise<Results[O]>((resolve, reject) => this.send(op, args, resolve as (v: unknown) => void, reject));
    this.opts.onHello(hello, replay);
    for (const q of this.queue.splice(0)) q.send();
  }

  private retry(): void {
    if (this.closed) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    setTimeout(() => void this.connect(), wait);
  }

  private onClose(): void {
    if (!this.socket) return;
    this.socket = undefined;
    this.helloDone = false;
    this.failPending("DISCONNECTED", "the orchestrator connection was lost before it answered");
    this.retry();
  }

  private failPending(code: string, message: string): void {
    for (const p of this.pending.values()) p.reject(new IconRuntimeError(code, message, "Retry the call; the runtime reconnects by itself."));
    this.pending.clear();
  }

  private onData(chunk: Uint8Array): void {
    this.partial += this.decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.partial.indexOf("\n")) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      if (line) this.onLine(line);
    }
    if (this.partial.length > MAX_LINE_BYTES) {
      process.stderr.write("icon-runtime: the orchestrator sent an over-long line; reconnecting\n");
      this.socket?.end();
    }
  }

  private onLine(line: string): void {
    let msg: Answer | Event;
    try {
      msg = JSON.parse(line);
    } catch {
      process.stderr.write("icon-runtime: ignoring a line that is not JSON from the orchestrator\n");
      return;
    }
    if ("event" in msg) {
      this.opts.onEvent(msg);
      return;
    }
    if (msg.id === null || msg.id === undefined) {
      if (!msg.ok) process.stderr.write(`icon-runtime: orchestrator error: ${msg.error}\n`);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new IconRuntimeError(msg.code, msg.error, msg.fix));
  }
}
