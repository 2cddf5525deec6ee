/**
 * The clock seam: everything that measures time or waits goes through a Clock, so tests and simulations
 * can run on virtual time. `realClock` is what the product uses; `FakeClock` runs timers in order of their
 * virtual due time and lets promise continuations settle before time moves on.
 */

/** An opaque handle returned by setTimeout. */
export type TimerHandle = { readonly __timer: true } | object;

export interface Clock {
  /** Milliseconds since the Unix epoch, with sub-millisecond precision where the runtime has it. */
  now(): number;
  /** Calls fn after ms milliseconds. Real timers never keep the process alive by themselves. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

const origin = performance.timeOrigin;

export const realClock: Clock = {
  // performance.now() is monotonic and fine-grained (loopback RTTs are ~0.1 ms); the origin makes it epoch-based.
  now: () => origin + performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    (t as { unref?: () => void }).unref?.();
    return t as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    if (handle) clearTimeout(handle as unknown as ReturnType<typeof setTimeout>);
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets every pending promise continuation run: setImmediate fires only after the microtask queue drains. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * Virtual time. Timers due at the same instant run in the order they were set; between instants the
 * microtask queue is drained, so `await`-based code sees the clock it would see in real time.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private heap: FakeTimer[] = [];
  /** Number of timer callbacks run so far (a cost measure for simulations). */
  fired = 0;

  constructor(start = Date.UTC(2024, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) (handle as FakeTimer).cancelled = true;
  }

  /** Timers not yet run or cancelled. */
  get pending(): number {
    return this.heap.reduce((n, t) => n + (t.cancelled ? 0 : 1), 0);
  }

  /** Runs every timer due within the next `ms` virtual milliseconds, then sets the clock to now+ms. */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    await settle();
    while (this.runInstant(until)) await settle();
    this.t = Math.max(this.t, until);
  }

  /**
   * Runs timers until `promise` settles and returns its value. Throws if nothing is left to run or if
   * more than `maxMs` of virtual time passes first (a simulation that would never end).
   */
  async run<T>(promise: Promise<T>, maxMs = 3_600_000): Promise<T> {
    let state: "pending" | "done" | "failed" = "pending";
    let value: T | undefined;
    let error: unknown;
    promise.then((v) => ((state = "done"), (value = v)), (e) => ((state = "failed"), (error = e)));
    const deadline = this.t + maxMs;
    await settle();
    while (state === "pending") {
      if (!this.runInstant(deadline)) {
        if (this.t >= deadline || this.pending === 0)
          throw new Error(`FakeClock.run: the promise did not settle ${this.pending === 0 ? "and no timers are left" : `within ${maxMs} virtual ms`}`);
        this.t = deadline;
      }
      await settle();
    }
    if (state === "failed") throw error;
    return value as T;
  }

  /** Runs all timers of the earliest due instant (if it is ≤ until); false when there is none. */
  private runInstant(until: number): boolean {
    let top = this.peek();
    if (!top || top.at > until) return false;
    const at = top.at;
    this.t = Math.max(this.t, at);
    while (top && top.at === at) {
      this.pop();
      if (!top.cancelled) {
        this.fired++;
        top.fn();
      }
      top = this.peek();
    }
    return true;
  }

  private peek(): FakeTimer | undefined {
    while (this.heap.length && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  private less(a: FakeTimer, b: FakeTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: FakeTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): FakeTimer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Resolves after ms virtual milliseconds (for code under test that wants to sleep). */
  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.setTimeout(r, ms));
  }
}

/** Sleeps on any clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((r) => clock.setTimeout(r, ms));
}
