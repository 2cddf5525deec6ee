/**
 * One ICON as the running yard holds it: its record, its current state, its runtime socket, and the
 * answers to what the ICON asks on that socket. Requests arrive already checked (request-check.ts);
 * the ICON is identified by the socket it spoke on, never by anything it says.
 */
import { PROTOCOL_VERSION, type Event, type HelloResult, type Request } from "./protocol.ts";
import { IconError } from "../errors.ts";
import type { RuntimeConn, RuntimeHandler, RuntimeSocket } from "./runtime-server.ts";
import type { IconRef, IconServices } from "./services.ts";
import type { IconState } from "./state.ts";
import type { IconRecord } from "./types.ts";
import type { Egress, IconNetFacts } from "../engine/icon-network.ts";

/** What an entry needs from its yard. */
export interface EntryHost {
  readonly nodeId: string;
  /** The egress policy its ICONs run under. */
  readonly egress: Egress;
  /** The yard's clock (idle policy compares these times). */
  now(): number;
  address(): string;
  services(): IconServices;
  /** The ICON said ready on `port`. */
  onReady(entry: IconEntry, port: number): Promise<void>;
  onPolicy(entry: IconEntry): Promise<void>;
  /** Saves the entry's record (errors are logged, not thrown). */
  save(entry: IconEntry): Promise<void>;
}

/** Events kept for an ICON that is not connected (e.g. a replica status while it reconnects). */
const MAX_QUEUED_EVENTS = 100;

export class IconEntry implements RuntimeHandler {
  state: IconState = "STOPPED";
  reason?: string;
  socket?: RuntimeSocket;
  /** Port from a ready that came before the yard saw the container up. */
  readyPort?: number;
  /** Bumped by stop and rm: a start in progress that sees it change gives up. */
  generation = 0;
  /** Set while the yard itself stops the container, so its exit is not a failure. */
  stopping = false;
  /** The start in progress, joined by a second start. */
  starting?: Promise<unknown>;
  /** The last start failed before the container ran (create or start refused). */
  startRefused = false;
  /** The removal in progress, joined by a second one. */
  discarding?: Promise<void>;
  /** Cancels the wait for the current container's exit. */
  exitWatch?: AbortController;
  /** Serializes record writes. */
  saving: Promise<void> = Promise.resolve();
  /** What its network lets it reach, and its address while it runs. */
  net: IconNetFacts;
  private queued: Event[] = [];
  /** Clients the ICON last said it serves; undefined until it reports (then idle policy applies). */
  clients?: number;
  /** When the ICON last had a client, or became RUNNING; when it last stopped or paused. For idle policy. */
  busyAt: number;
  stoppedAt: number;
  pausedAt: number;

  constructor(
    public rec: IconRecord,
    private readonly host: EntryHost,
  ) {
    this.busyAt = this.stoppedAt = this.pausedAt = host.now();
    this.net = { egress: host.egress };
  }

  get name(): string {
    return this.rec.name;
  }

  ref(): IconRef {
    const r = this.rec;
    return { name: r.name, role: r.role, parent: r.parent, image: r.image, address: this.host.address(), port: r.port, children: [...r.children] };
  }

  /** Pushes an event to the ICON, or keeps it (bounded) until the ICON connects again. */
  deliver(event: Event): boolean {
    if (this.socket?.broadcast(event)) return true;
    this.queued.push(event);
    if (this.queued.length > MAX_QUEUED_EVENTS) this.queued.shift();
    return false;
  }

  async handle(req: Request, _conn: RuntimeConn): Promise<unknown> {
    const services = this.host.services();
    switch (req.op) {
      case "hello": {
        const r = this.rec;
        // Queued events go out once the hello answer is on the wire.
        setTimeout(() => {
          const q = this.queued.splice(0);
          for (const e of q) this.deliver(e);
        }, 0);
        return {
          protocol: PROTOCOL_VERSION,
          icon: { name: r.name, role: r.role, nodeId: this.host.nodeId, parent: r.parent, endpoint: { address: this.host.address(), port: r.port } },
          initialState: r.initialState ?? null,
          policy: r.policy,
        } satisfies HelloResult;
      }
      case "ready":
        await this.host.onReady(this, req.port);
        return { endpoint: { address: this.host.address(), port: this.rec.port } };
      case "findCloser":
        if (!this.rec.asksCloser) {
          this.rec.asksCloser = true;
          void this.host.save(this); // not awaited: the answer does not wait for the disk
        }
        return { candidates: await services.findCloser(this.ref(), req.client) };
      case "replicate":
        return await services.replicate(this.ref(), req.target, req.options ?? {}, (s) => this.deliver({ event: "replica", ...s }));
      case "sendToParent":
        if (this.rec.role !== "replica" || !this.rec.parent)
          throw new IconError("INVALID_INPUT", `ICON ${this.name} is a root ICON and has no parent`, "Call sendToParent only in a replica (icon.info().role).");
        return { delivered: await services.sendToParent(this.ref(), req.data) };
      case "sendToChildren":
        return { delivered: await services.sendToChildren(this.ref(), req.data) };
      case "policy":
        this.rec.policy = { ...this.rec.policy, ...req.policy };
        await this.host.onPolicy(this);
        return { policy: this.rec.policy };
      case "clients":
        if (req.count > 0 || this.clients !== 0) this.busyAt = this.host.now();
        this.clients = req.count;
        return { count: req.count };
    }
  }
}
