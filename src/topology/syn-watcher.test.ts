import { describe, expect, test } from "bun:test";
import { IconError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { FakeClock } from "../util/clock.ts";
import CAPTURES from "./conntrack/captures.json";
import type { EventSource } from "./conntrack/socket.ts";
import { SYN_RATE, SYN_RATE_PER_SUBNET, SynWatcher } from "./syn-watcher.ts";

const ICON_PORT = 46327; // the destination port of the captured SYN
const SELF = "127.0.0.1";

/** The captured loopback SYN, from `source` instead. */
function syn(source: string): Uint8Array {
  const b = new Uint8Array(Buffer.from(CAPTURES.tcp4.hex, "hex"));
  b.set(source.split(".").map(Number), 32); // CTA_IP_V4_SRC's value in the original tuple
  return b;
}

/** An event source the test feeds by hand. */
function source(): EventSource & { push(b: Uint8Array): void; closed: boolean } {
  const queue: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  const s = {
    closed: false,
    push(b: Uint8Array) {
      queue.push(b);
      wake?.();
    },
    async read() {
      while (!queue.length && !s.closed) await new Promise<void>((r) => (wake = r));
      return queue.shift();
    },
    close() {
      s.closed = true;
      wake?.();
    },
  };
  return s;
}

function watcher(o: { asksCloserOn?: (p: number) => boolean; concurrency?: number; open?: () => EventSource; log?: string[]; clock?: FakeClock } = {}) {
  const started: string[] = [];
  const finish: (() => void)[] = [];
  const lines = o.log ?? [];
  const w = new SynWatcher({
    asksCloserOn: o.asksCloserOn ?? ((p) => p === ICON_PORT),
    isSelf: (ip) => ip === SELF,
    prefetch: (ip) => {
      started.push(ip);
      return new Promise<void>((r) => finish.push(r));
    },
    concurrency: o.concurrency ?? 4,
    log: createLogger({ level: "debug", write: (l) => lines.push(l) }),
    clock: o.clock ?? new FakeClock(0),
    ...(o.open ? { open: o.open } : {}),
  });
  return { w, started, finish };
}

describe("SYN watcher", () => {
  test("a SYN from a client to an ICON's port starts the finder for that client", async () => {
    const src = source();
    const { w, started } = watcher({ open: () => src });
    expect(w.start()).toBe(true);
    src.push(syn("10.64.6.10"));
    await Bun.sleep(1);
    expect(started).toEqual(["10.64.6.10"]);
    expect(w.stats).toMatchObject({ syns: 1, prefetched: 1, limited: 0 });
    w.stop();
    expect(src.closed).toBe(true);
  });

  test("other ports, other protocols and this host's own connections start nothing", () => {
    const { w, started } = watcher({ asksCloserOn: (p) => p === 8080 });
    w.handle(syn("10.64.6.10")); // to a port no ICON has
    const mine = watcher();
    mine.w.handle(syn(SELF)); // from this host
    const udp = new Uint8Array(Buffer.from(CAPTURES.udp4.hex, "hex"));
    mine.w.handle(udp);
    expect([...started, ...mine.started]).toEqual([]);
    expect(mine.w.stats.syns).toBe(0);
  });

  test(`at most ${2 * SYN_RATE_PER_SUBNET} at once from one /24, and at most \`concurrency\` running`, () => {
    const { w, started, finish } = watcher({ concurrency: 5 });
    for (let i = 1; i <= 10; i++) w.handle(syn(`10.64.6.${i}`));
    expect(started.length).toBe(2 * SYN_RATE_PER_SUBNET);
    for (let i = 1; i <= 10; i++) w.handle(syn(`10.65.${i}.1`));
    expect(started.length).toBe(5);
    expect(w.stats).toMatchObject({ syns: 20, prefetched: 5, limited: 15 });
    finish.forEach((f) => f());
  });

  test(`at most ${2 * SYN_RATE} at once from many /24s, then ${SYN_RATE} per second`, async () => {
    const clock = new FakeClock(0);
    const { w, started, finish } = watcher({ concurrency: 1000, clock });
    for (let i = 0; i < 200; i++) w.handle(syn(`10.${64 + (i >> 8)}.${i & 255}.1`));
    expect(started.length).toBe(2 * SYN_RATE);
    await clock.advance(1000);
    for (let i = 0; i < 200; i++) w.handle(syn(`10.70.${i}.1`));
    expect(started.length).toBe(3 * SYN_RATE);
    finish.forEach((f) => f());
  });

  test("a slot frees when its prefetch settles", async () => {
    const { w, started, finish } = watcher({ concurrency: 1 });
    w.handle(syn("10.64.6.10"));
    w.handle(syn("10.65.6.10"));
    expect(started).toEqual(["10.64.6.10"]);
    finish[0]!();
    await Bun.sleep(0);
    w.handle(syn("10.65.6.10"));
    expect(started).toEqual(["10.64.6.10", "10.65.6.10"]);
  });

  test("without conntrack events it says why once and does nothing", () => {
    const lines: string[] = [];
    const { w } = watcher({ log: lines, open: () => { throw new IconError("PERMISSION", "listening to conntrack events needs CAP_NET_ADMIN", "Run as root."); } });
    expect(w.start()).toBe(false);
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("CAP_NET_ADMIN");
  });

  test("a malformed event is counted and logged once", () => {
    const lines: string[] = [];
    const { w } = watcher({ log: lines });
    w.handle(new Uint8Array(40).fill(0xff));
    w.handle(new Uint8Array(40).fill(0xff));
    expect(w.stats.malformed).toBe(2);
    expect(lines.length).toBe(1);
  });
});
