/**
 * The delay process: one thread, one netlink socket per namespace, one FIFO per queue. It sleeps in
 * ppoll until a packet arrives or the oldest held packet falls due, then accepts every due packet of a
 * queue with one batch verdict (one send per namespace). Precision comes from SCHED_FIFO (no timer
 * slack, no waiting behind other work), a ppoll timeout in nanoseconds, and waking early by the measured
 * wake-up lateness (DESIGN.md "Testbed facts": ~60 µs).
 *
 * It fails closed: queues are bound without FAIL_OPEN and `up` installs no --queue-bypass, so if this
 * process dies, delayed links drop everything instead of carrying traffic undelayed, and
 * `testbed status` reports the delay process dead.
 */
import { existsSync } from "node:fs";
import { netnsPath } from "../netns.ts";
import { MSG_DONTWAIT, MSG_PEEK, POLLIN, PR_SET_TIMERSLACK, SCHED_FIFO, errno, libc, type Libc } from "./libc.ts";
import { Fifo } from "./fifo.ts";
import { RecvBatch } from "./recv-batch.ts";
import { bindQueues, openInNamespace } from "./socket.ts";
import { encodeMessage, NFQA_PACKET_HDR, NFQNL_MSG_PACKET, parseMessages, VERDICT_BYTES, writeBatchVerdict } from "./wire.ts";

export interface DelaydConfig {
  namespaces: { netns: string; queues: { num: number; delayMs: number }[] }[];
  /** Released this much before the nominal time: the kernel-to-user-and-back cost of one queue pass. */
  biasUs: number;
  /** Exit when this file disappears (the testbed's state file: `down` removed it). */
  watchFile?: string;
  /** SCHED_FIFO priority; 0 leaves the scheduler alone. */
  rtPriority: number;
}

export interface DelaydHooks {
  ready(): void;
  log(msg: string): void;
}

/** Packets a release may go early by, to batch neighbours instead of waking again for each. */
const BATCH_NS = 10_000;
/** Starting guess of how late ppoll returns after its timeout; then measured as we go. */
const INITIAL_WAKE_NS = 60_000;
const IDLE_CHECK_NS = 1e9;

export function runDelayd(cfg: DelaydConfig, hooks: DelaydHooks): never {
  const c = libc();
  realtime(c, cfg.rtPriority, hooks);
  const fds: number[] = [];
  const byNum: Fifo[][] = [];
  const fifos: Fifo[] = [];
  let arrival = Bun.nanoseconds();
  const bias = cfg.biasUs * 1000;
  let sockIndex = 0;
  let dropped = 0;
  const onPacket = (queue: number, id: number) => {
    const f = byNum[sockIndex]![queue];
    if (f) f.push(id, arrival + f.delayNs - bias);
    else dropped++;
  };

  for (const [i, ns] of cfg.namespaces.entries()) {
    const fd = openInNamespace(c, netnsPath(ns.netns));
    fds.push(fd);
    byNum[i] = [];
    for (const q of ns.queues) {
      const f = new Fifo(i, q.num, q.delayMs * 1e6);
      byNum[i]![q.num] = f;
      fifos.push(f);
    }
    sockIndex = i;
    bindQueues(c, fd, ns.queues.map((q) => q.num), onPacket, ns.netns);
  }
  warmUp(c, fds);
  hooks.log(`bound ${fifos.length} queues in ${fds.length} namespaces`);
  hooks.ready();

  const pollfds = new Int32Array(fds.length * 2);
  fds.forEach((fd, i) => ((pollfds[2 * i] = fd), (pollfds[2 * i + 1] = POLLIN)));
  const tmo = new Int32Array(4); // struct timespec { i64 sec; i64 nsec } as four i32 (little-endian)
  const rxBatch = new RecvBatch();
  const onDatagram = (off: number, len: number) => parseMessages(rxBatch.view, len, onPacket, undefined, off);
  const tx = fds.map(() => new Uint8Array(VERDICT_BYTES * 64));
  const txView = tx.map((b) => new DataView(b.buffer));
  const txLen = new Int32Array(fds.length);
  let wake = INITIAL_WAKE_NS;
  let lastCheck = Bun.nanoseconds();
  let packets = 0;
  // Releases later than due by more than 1 ms: the machine was too busy to honour a delay.
  let maxLate = 0, lateReleases = 0, lastReport = 0;

  for (;;) {
    let now = Bun.nanoseconds();
    // 1. Release everything due (or due within BATCH_NS): one batch verdict per queue, one send per namespace.
    let next = Infinity;
    for (const f of fifos) {
      const head = f.nextDue();
      const id = f.popDue(now + BATCH_NS);
      if (id >= 0) {
        const late = now - head;
        if (late > maxLate) maxLate = late;
        if (late > 1e6) lateReleases++;
        const s = f.sock;
        if (txLen[s]! + VERDICT_BYTES > tx[s]!.length) flush(c, fds[s]!, tx[s]!, txLen, s, hooks);
        txLen[s] = writeBatchVerdict(txView[s]!, txLen[s]!, f.num, id);
      }
      const d = f.nextDue();
      if (d < next) next = d;
    }
    for (let s = 0; s < fds.length; s++) if (txLen[s]) flush(c, fds[s]!, tx[s]!, txLen, s, hooks);

    if (now - lastCheck > IDLE_CHECK_NS) {
      lastCheck = now;
      if (maxLate > 1e6 && now - lastReport > 10e9) {
        hooks.log(`late releases: ${lateReleases} over 1 ms, worst ${(maxLate / 1e6).toFixed(2)} ms (${packets} packets so far)`);
        lastReport = now;
        maxLate = 0;
      }
      if (dropped) {
        // Never expected: a rule names a queue the plan does not. Such packets wait for the next
        // batch verdict of that queue number, if any.
        hooks.log(`${dropped} packets arrived on queues with no delay configured`);
        dropped = 0;
      }
      if (cfg.watchFile && !existsSync(cfg.watchFile)) {
        hooks.log(`${cfg.watchFile} is gone: exiting`);
        process.exit(0);
      }
    }
    // 2. Sleep until the next packet is due (minus the usual lateness) or a packet arrives.
    let waitNs = Math.min(next - now - wake, IDLE_CHECK_NS);
    if (waitNs < 0) waitNs = 0;
    tmo[0] = Math.floor(waitNs / 1e9);
    tmo[2] = waitNs % 1e9;
    const before = Bun.nanoseconds();
    const ready = c.ppoll(pollfds, fds.length, tmo, null);
    now = Bun.nanoseconds();
    if (ready === 0 && waitNs > 0 && next !== Infinity) {
      // Woke by timeout: learn how late (EWMA), bounded so one preemption does not skew it.
      const late = Math.min(Math.max(now - before - waitNs, 0), 500_000);
      wake += (late - wake) / 16;
    }
    if (ready <= 0) continue;
    // 3. Read every queued packet; they all arrived by `now`.
    arrival = now;
    for (let s = 0; s < fds.length; s++) {
      if (!(pollfds[2 * s + 1]! >>> 16)) continue; // revents (the high short) empty
      sockIndex = s;
      const n = rxBatch.drain(c, fds[s]!, onDatagram);
      if (n < 0) hooks.log(`recvmmsg failed (errno ${-n})`);
      else packets += n;
    }
  }
}

/**
 * Runs the hot code on synthetic input before the first real packet, so the JIT has compiled it: the
 * first packets after start otherwise came out up to 1.5 ms late.
 */
function warmUp(c: Libc, fds: number[]): void {
  const f = new Fifo(0, 0, 1e6);
  const pkt = encodeMessage(NFQNL_MSG_PACKET, 3, 0, 0, [[NFQA_PACKET_HDR, new Uint8Array([0, 0, 0, 7, 8, 0, 4, 0])]]);
  const dv = new DataView(pkt.buffer);
  const out = new DataView(new ArrayBuffer(VERDICT_BYTES));
  const rx = new Uint8Array(4096);
  let t = 0;
  for (let i = 0; i < 50_000; i++) {
    parseMessages(dv, pkt.length, (q, id) => f.push(id, (t += 1000)));
    if (i % 4 === 3) writeBatchVerdict(out, 0, 0, f.popDue(t - 2000));
    f.nextDue();
    Bun.nanoseconds();
  }
  const pfd = new Int32Array([fds[0] ?? -1, POLLIN]);
  const zero = new Int32Array(4);
  for (let i = 0; i < 2000; i++) {
    c.ppoll(pfd, 1, zero, null);
    if (fds[0] !== undefined) c.recv(fds[0], rx, 0, MSG_DONTWAIT | MSG_PEEK);
  }
  const batch = new RecvBatch();
  for (let i = 0; i < 2000; i++) batch.drain(c, -1, () => {});
  // Start from a clean heap: the loop allocates nothing, so no collection should interrupt it later.
  Bun.gc(true);
}

function flush(c: Libc, fd: number, buf: Uint8Array, len: Int32Array, s: number, hooks: DelaydHooks): void {
  if (Number(c.send(fd, buf, len[s]!, 0)) < 0) hooks.log(`verdict send failed (errno ${errno(c)})`);
  len[s] = 0;
}

/** SCHED_FIFO for this thread (and with it no timer slack); a warning, not a failure, if refused. */
function realtime(c: Libc, priority: number, hooks: DelaydHooks): void {
  if (priority > 0 && c.sched_setscheduler(0, SCHED_FIFO, new Int32Array([priority])) < 0)
    hooks.log(`SCHED_FIFO refused (errno ${errno(c)}): delays will be less precise`);
  c.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
}
