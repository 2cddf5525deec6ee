/**
 * Moving one ICON through its states on the engine: create and start its container, make its port reach
 * it (IconNetwork.attach), wait for the runtime's ready (RUNNING) or the container's exit (FAILED, with
 * its last log lines), stop it, remove it. Every transition is checked (state.ts), saved in the record,
 * and emitted as an event; leaving the active states lets go of the ICON's port.
 */
import { IconError, isIconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { sleep, type Clock } from "../util/clock.ts";
import { containerSpec, STOP_TIMEOUT_SEC } from "./container-spec.ts";
import type { ContainerEngine } from "../engine/container-engine.ts";
import type { IconNetwork } from "../engine/icon-network.ts";
import type { IconEntry } from "./entry.ts";
import type { Emitter, YardEvents } from "./events.ts";
import { RuntimeSocket } from "./runtime-server.ts";
import { assertTransition, type IconState, type StateEvent } from "./state.ts";
import type { IconStore } from "./store.ts";

export interface LifecycleDeps {
  engine: ContainerEngine;
  /** Ready timeouts, the retry of a lost exit watch, idle times: virtual in tests. */
  clock: Clock;
  store: IconStore;
  events: Emitter<YardEvents>;
  log: Logger;
  nodeId: string;
  network: IconNetwork;
  address(): string;
}

/** Lines of a container's log quoted when it exits before ready. */
const TAIL_LINES = 12;

export class Lifecycle {
  constructor(private readonly d: LifecycleDeps) {}

  transition(e: IconEntry, to: IconState, reason?: string): void {
    const from = e.state;
    assertTransition(e.name, from, to);
    e.state = to;
    if (to === "RUNNING") e.busyAt = this.d.clock.now(); // a replica just started is not idle yet
    if (to === "STOPPED") e.stoppedAt = this.d.clock.now();
    if (to === "PAUSED") e.pausedAt = this.d.clock.now();
    e.reason = to === "FAILED" || to === "STOPPED" || to === "PAUSED" ? reason : undefined;
    if (to === "FAILED" || to === "STOPPED") this.detach(e);
    e.rec.lastState = to;
    e.rec.reason = e.reason;
    this.save(e);
    const ev: StateEvent = { type: "state", name: e.name, state: to, previous: from, at: new Date(this.d.clock.now()).toISOString() };
    if (e.reason) ev.reason = e.reason;
    if (to === "RUNNING") Object.assign(ev, { address: this.d.address(), port: e.rec.port });
    this.d.log.info(`ICON ${e.name}: ${from} -> ${to}`, e.reason ? { reason: e.reason } : undefined);
    this.d.events.emit("state", ev);
  }

  /** Lets go of the ICON's port and forgets its address (the next start gets them again). */
  private detach(e: IconEntry): void {
    if (!e.net.address) return;
    e.net = { egress: this.d.network.egress };
    void this.d.network.detach(e.rec.port);
  }

  /** Makes the ICON's port reach its running container; its address is then known. */
  async attach(e: IconEntry, containerId: string): Promise<void> {
    e.net = await this.d.network.attach(containerId, e.rec.port, e.name);
  }

  save(e: IconEntry): Promise<void> {
    const rec = structuredClone(e.rec);
    e.saving = e.saving.then(() => this.d.store.save(rec)).catch((err) => this.d.log.error("could not save ICON record", { name: e.name, error: err }));
    return e.saving;
  }

  async openSocket(e: IconEntry): Promise<void> {
    if (e.socket) return;
    await this.d.store.prepare(e.name);
    e.socket = await RuntimeSocket.listen(this.d.store.socketPath(e.name), e, this.d.log.child(`icon.${e.name}`));
  }

  /** Starts the ICON's container (creating it if needed) and resolves once it is RUNNING. */
  boot(e: IconEntry, readySec: number): Promise<void> {
    e.starting ??= this.bootOnce(e, readySec).finally(() => (e.starting = undefined));
    return e.starting as Promise<void>;
  }

  private async bootOnce(e: IconEntry, readySec: number): Promise<void> {
    const gen = ++e.generation;
    const stale = () => e.generation !== gen;
    e.readyPort = undefined;
    e.startRefused = false;
    this.transition(e, "STARTING");
    const outcome = this.outcome(e, readySec);
    outcome.catch(() => {}); // awaited below; an early error is thrown from the catch instead
    try {
      await this.openSocket(e);
      await this.d.network.check(e.name);
      const create = async () => {
        const spec = containerSpec(e.rec, { nodeId: this.d.nodeId, socketDir: this.d.store.socketDir(e.name), network: this.d.network.spec(e.rec.port, e.name) });
        const id = await this.d.engine.createContainer(spec);
        e.rec.containerId = id;
        await this.save(e);
        return id;
      };
      let id = e.rec.containerId ?? (await create());
      if (stale()) return await outcome;
      try {
        await this.d.engine.startContainer(id);
      } catch (err) {
        // The hot path starts the recorded container directly; if it, or the network namespace it joins,
        // was removed behind the node's back, the ICON gets a new one (same record, same pinned port).
        if (!isIconError(err, "NOT_FOUND") || !e.rec.containerId) throw err;
        await this.d.engine.removeContainer(id, { force: true });
        id = await create();
        if (stale()) return await outcome;
        await this.d.engine.startContainer(id);
      }
      if (stale()) {
        // stopped or removed while Docker was starting it: make sure it does not stay up
        await this.d.engine.stopContainer(id, STOP_TIMEOUT_SEC).catch(() => {});
        return await outcome;
      }
      if (e.state !== "STARTING") return await outcome;
      // Registered once start returned: "not-running" then cannot miss an exit, however early.
      this.watchExit(e, id);
      await this.attach(e, id).catch(async (err) => {
        // No way in (its port is taken): it must not run on unreachable.
        e.stopping = true;
        await this.d.engine.stopContainer(id, STOP_TIMEOUT_SEC).catch(() => {});
        e.stopping = false;
        throw err;
      });
      this.transition(e, "WAITING_READY");
      // A wrong port fails the ICON inside onReady; the outcome below reports it.
      if (e.readyPort !== undefined) await this.onReady(e, e.readyPort).catch(() => {});
    } catch (err) {
      e.exitWatch?.abort();
      const ie = err instanceof IconError ? err : new IconError("DOCKER", String(err));
      e.startRefused = true;
      if (!stale() && e.state !== "FAILED") this.transition(e, "FAILED", ie.message);
      throw ie;
    }
    await outcome;
  }

  /** Resolves when the ICON becomes RUNNING; rejects when it fails, stops, or is not ready in time. */
  private outcome(e: IconEntry, readySec: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.d.clock.setTimeout(() => {
        void this.failAndStop(e, `did not call icon.ready() within ${readySec} s of starting`);
      }, readySec * 1000);
      const off = this.d.events.on("state", (ev) => {
        if (ev.name !== e.name || ev.state === "STARTING" || ev.state === "WAITING_READY") return;
        this.d.clock.clearTimeout(timer);
        off();
        if (ev.state === "RUNNING") resolve();
        else if (ev.state === "FAILED")
          reject(new IconError("FAILED", `ICON ${e.name} failed: ${ev.reason}`,
            `See "icon logs ${e.name}"; fix the image or its settings, then "icon start ${e.name}" (or "icon rm ${e.name}").`));
        else reject(new IconError("CONFLICT", `ICON ${e.name} was stopped before it became ready`));
      });
    });
  }

  /** The runtime said ready: RUNNING if the container is up, remembered if the yard has not seen it up yet. */
  async onReady(e: IconEntry, port: number): Promise<void> {
    if (port !== e.rec.port) {
      const reason = `the ICON said ready on port ${port}, but its port is ${e.rec.port}: it must listen on ICON_PORT`;
      void this.failAndStop(e, reason);
      throw new IconError("INVALID_INPUT", reason, "Listen on icon.port (the ICON_PORT environment variable) and call icon.ready().");
    }
    if (e.state === "STARTING") e.readyPort = port;
    else if (e.state === "WAITING_READY") this.transition(e, "RUNNING");
    else if (e.state !== "RUNNING") throw new IconError("CONFLICT", `ICON ${e.name} is ${e.state}; ready ignored`);
  }

  /** Follows the container until it exits; an exit the yard did not ask for is a failure. */
  watchExit(e: IconEntry, id: string): void {
    e.exitWatch?.abort();
    const ac = new AbortController();
    e.exitWatch = ac;
    this.d.engine.waitExit(id, ac.signal).then(
      (code) => void this.onExit(e, id, code),
      async () => {
        // The engine connection broke (dockerd restarting?): look again until Docker answers; an
        // unreachable Docker says nothing about the container.
        for (let wait = 1000; !ac.signal.aborted; wait = Math.min(wait * 2, 30_000)) {
          await sleep(this.d.clock, wait);
          if (ac.signal.aborted) return;
          let info;
          try {
            info = await this.d.engine.inspectContainer(id);
          } catch {
            continue;
          }
          if (info?.running) return this.watchExit(e, id);
          return void this.onExit(e, id, info?.exitCode ?? -1);
        }
      },
    );
  }

  private async onExit(e: IconEntry, id: string, code: number): Promise<void> {
    // Not a failure when the yard stopped it itself, or the ICON already settled.
    const settled = () => e.rec.containerId !== id || e.stopping || e.state === "STOPPED" || e.state === "FAILED";
    if (settled()) return;
    const info = await this.d.engine.inspectContainer(id).catch(() => undefined);
    if (settled()) return;
    const wasRunning = e.state === "RUNNING";
    if (wasRunning && code === 0) return this.transition(e, "STOPPED", "the ICON exited with code 0");
    let why = info?.oomKilled
      ? `was killed for using more than its memory limit (${Math.round(e.rec.limits.memoryBytes / 2 ** 20)} MiB; raise it with --memory)`
      : `exited with code ${code}${wasRunning ? "" : " before it called icon.ready()"}`;
    if (info?.error) why += ` (${info.error})`;
    const tail = await this.tail(id);
    if (settled()) return;
    this.transition(e, "FAILED", tail ? `${why}; its last log lines:\n${tail}` : why);
  }

  async tail(id: string, n = TAIL_LINES): Promise<string> {
    const lines: string[] = [];
    try {
      for await (const l of this.d.engine.logs(id, { tail: n })) lines.push(`  ${l.line}`);
    } catch {}
    return lines.join("\n");
  }

  async failAndStop(e: IconEntry, reason: string): Promise<void> {
    if (e.state === "FAILED" || e.state === "STOPPED") return;
    e.stopping = true;
    this.transition(e, "FAILED", reason);
    try {
      if (e.rec.containerId) await this.d.engine.stopContainer(e.rec.containerId, STOP_TIMEOUT_SEC);
    } catch (err) {
      this.d.log.warn("could not stop a failed ICON", { name: e.name, error: err as Error });
    } finally {
      e.stopping = false;
    }
  }

  /** Freezes a RUNNING ICON's container: its memory, sockets and forwarded port are kept (the warm case). */
  async pause(e: IconEntry, reason = "paused"): Promise<void> {
    if (e.state !== "RUNNING") throw new IconError("CONFLICT", `ICON ${e.name} is ${e.state}: only a RUNNING ICON can be paused`);
    await this.d.engine.pauseContainer(e.rec.containerId!);
    this.transition(e, "PAUSED", reason);
  }

  /** Thaws a PAUSED ICON: RUNNING at once, its runtime is still connected and ready. */
  async unpause(e: IconEntry): Promise<void> {
    if (e.state !== "PAUSED") return;
    await this.d.engine.unpauseContainer(e.rec.containerId!);
    this.transition(e, "RUNNING");
  }

  /** Stops the container (terminate event first, so the runtime's onTerminate handlers run; a paused one is thawed to hear it). */
  async stop(e: IconEntry, reason = "stopped"): Promise<void> {
    e.generation++;
    e.stopping = true;
    try {
      if (e.state === "PAUSED") await this.d.engine.unpauseContainer(e.rec.containerId!);
      const graceMs = STOP_TIMEOUT_SEC * 1000;
      e.socket?.broadcast({ event: "terminate", reason, graceMs });
      if (e.rec.containerId) await this.d.engine.stopContainer(e.rec.containerId, STOP_TIMEOUT_SEC);
      e.exitWatch?.abort();
      if (e.state !== "STOPPED") this.transition(e, "STOPPED", reason);
    } finally {
      e.stopping = false;
    }
  }

  /** Removes container, socket and record; safe to repeat after a crash (record.removing). */
  async remove(e: IconEntry): Promise<void> {
    e.generation++;
    e.stopping = true;
    e.rec.removing = true;
    await this.save(e);
    e.exitWatch?.abort();
    if (e.rec.containerId) await this.d.engine.removeContainer(e.rec.containerId, { force: true });
    this.detach(e);
    await this.d.network.remove?.(e.name);
    await e.socket?.close();
    e.socket = undefined;
    await e.saving;
    await this.d.store.remove(e.name);
    this.d.events.emit("removed", { name: e.name });
  }
}
