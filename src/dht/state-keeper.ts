/**
 * When the DHT state is written: soon after the node first meets peers and soon after every join (so a kill -9
 * shortly after joining still leaves neighbours to rejoin through), otherwise at most every SAVE_INTERVAL_MS
 * while it changes, and on stop. What is written is persistence.ts's business.
 */
import type { Logger } from "../log.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import { FIRST_SAVE_MS, SAVE_INTERVAL_MS } from "./constants.ts";
import { loadState, saveState, type DhtState } from "./persistence.ts";

export class StateKeeper {
  private timer?: TimerHandle;
  private dirty = false;
  private everSaved = false;
  private active = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly d: { path?: string; clock: Clock; log: Logger; collect: () => DhtState },
  ) {}

  /** The state saved by an earlier run of this node id, if there is one and it is readable. */
  async load(nodeId: string): Promise<DhtState | undefined> {
    if (!this.d.path) return undefined;
    let state: DhtState | undefined;
    try {
      state = await loadState(this.d.path);
    } catch (e) {
      this.d.log.warn("ignoring an unreadable DHT state file", { path: this.d.path, error: (e as Error).message });
      return undefined;
    }
    if (state && state.nodeId !== nodeId) {
      this.d.log.warn("the DHT state file belongs to another node id; ignoring it", { path: this.d.path });
      return undefined;
    }
    return state;
  }

  start(): void {
    this.active = true;
  }

  markDirty(): void {
    if (!this.d.path || !this.active) return;
    this.dirty = true;
    this.timer ??= this.d.clock.setTimeout(() => void this.save(), this.everSaved ? SAVE_INTERVAL_MS : FIRST_SAVE_MS);
  }

  /** Something worth keeping happened (a join finished): save within FIRST_SAVE_MS, not at the next interval. */
  saveSoon(): void {
    if (!this.d.path || !this.active) return;
    this.dirty = true;
    this.d.clock.clearTimeout(this.timer);
    this.timer = this.d.clock.setTimeout(() => void this.save(), FIRST_SAVE_MS);
  }

  /** Writes the state now (if it changed, or always when `force`), and stops the periodic saving. */
  async save(force = false): Promise<void> {
    this.d.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const path = this.d.path;
    if (!path || (!this.dirty && !force)) return;
    this.dirty = false;
    this.everSaved = true;
    const state = this.d.collect();
    // One write at a time, in the order asked: a timer's save and stop()'s may overlap.
    const write = this.writing.then(() => saveState(path, state)).catch((e) => this.d.log.warn("could not save the DHT state", { path, error: (e as Error).message }));
    this.writing = write;
    await write;
  }

  async stop(): Promise<void> {
    this.active = false;
    await this.save(true);
  }
}
