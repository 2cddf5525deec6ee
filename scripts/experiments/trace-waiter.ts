/**
 * The measurement behind waiter.ts: how late does a trace notice a queued datagram, and what does the
 * waiting cost, when (a) the main thread polls without blocking between 1 ms timers, or (b) a Worker
 * blocks in ppoll and posts the readiness back? A child process sends datagrams to a local UDP socket at
 * random moments; the kernel's receive timestamp (SO_TIMESTAMPNS) is compared with the moment JavaScript
 * learns of it. Readiness of an error queue (POLLERR) and of a datagram (POLLIN) wake poll the same way.
 *
 *   node_modules/.bin/bun scripts/experiments/trace-waiter.ts [samples]
 *
 * Loopback only. Prints medians and p90 of the notice delay, CPU per wait, and the Worker's start time.
 */
import { dlopen, FFIType } from "bun:ffi";
import { AF_INET, MSG_DONTWAIT, POLLIN, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET, SO_TIMESTAMPNS, libc, realtimeMs } from "../../src/topology/trace/libc.ts";
import { controlMessages, decodeSockaddr, encodeSockaddrIn, parseTimespecMs, RecvBuffers } from "../../src/topology/trace/wire.ts";

const c = libc();
const extra = dlopen("libc.so.6", {
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
}).symbols;

const samples = Number(process.argv[2] ?? 200);
const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
c.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, new Int32Array([1]), 4);
extra.bind(fd, encodeSockaddrIn(0x7f000001, 0), 16);
const nameBuf = new Uint8Array(16);
extra.getsockname(fd, nameBuf, new Uint32Array([16]));
const port = decodeSockaddr(nameBuf)!.port;

const buf = new RecvBuffers();
function readRxTimes(): number[] {
  const out: number[] = [];
  for (;;) {
    if (Number(c.recvmsg(fd, buf.reset(), MSG_DONTWAIT)) < 0) return out;
    for (const m of controlMessages(buf.control, buf.controlLength)) if (m.type === SO_TIMESTAMPNS) out.push(parseTimespecMs(m.data)!);
  }
}

const pollMem = new ArrayBuffer(8);
new DataView(pollMem).setInt32(0, fd, true);
new DataView(pollMem).setInt16(4, POLLIN, true);
const pollBytes = new Uint8Array(pollMem);

async function viaTimers(untilMs: number): Promise<void> {
  while (c.poll(pollBytes, 1, 0) <= 0 && realtimeMs(c) < untilMs) await Bun.sleep(1);
}

const WORKER_SOURCE = `
import { dlopen, FFIType } from "bun:ffi";
const { ppoll } = dlopen("libc.so.6", { ppoll: { args: [FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } }).symbols;
const mem = new ArrayBuffer(8), ts = new BigInt64Array(2);
self.onmessage = (e) => {
  const v = new DataView(mem); v.setInt32(0, e.data.fd, true); v.setInt16(4, 1, true);
  ts[0] = BigInt(Math.floor(e.data.ms / 1000)); ts[1] = BigInt(Math.round((e.data.ms % 1000) * 1e6));
  postMessage(ppoll(new Uint8Array(mem), 1, ts, null));
};`;
const rssBefore = process.memoryUsage().rss;
const workerStart = performance.now();
const worker = new Worker(URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/typescript" })));
await new Promise<void>((resolve) => {
  worker.onmessage = () => resolve();
  worker.postMessage({ fd: -1, ms: 0 });
});
const workerStartMs = performance.now() - workerStart;
function viaWorker(untilMs: number): Promise<void> {
  return new Promise((resolve) => {
    worker.onmessage = () => resolve();
    worker.postMessage({ fd, ms: Math.max(0, untilMs - realtimeMs(c)) });
  });
}

const child = Bun.spawn([process.execPath, "-e", `
  const s = await Bun.udpSocket({});
  for (let i = 0; i < ${samples * 2 + 10}; i++) { await Bun.sleep(3 + Math.random() * 7); s.send("x", ${port}, "127.0.0.1"); }
`], { stdout: "ignore", stderr: "inherit" });

async function measure(name: string, wait: (untilMs: number) => Promise<void>) {
  const delays: number[] = [];
  readRxTimes();
  const cpu0 = process.cpuUsage();
  while (delays.length < samples) {
    await wait(realtimeMs(c) + 50);
    const noticed = realtimeMs(c);
    for (const rx of readRxTimes()) delays.push(noticed - rx);
  }
  const cpu = process.cpuUsage(cpu0);
  delays.sort((a, b) => a - b);
  const q = (p: number) => delays[Math.floor(p * (delays.length - 1))]!.toFixed(3);
  console.log(`${name.padEnd(22)} notice delay median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms; CPU ${((cpu.user + cpu.system) / 1000 / samples).toFixed(3)} ms per datagram`);
}

console.log(`Worker start (first message back): ${workerStartMs.toFixed(1)} ms; RSS +${((process.memoryUsage().rss - rssBefore) / 1e6).toFixed(1)} MB for the Worker`);
await measure("timers + poll(0)", viaTimers);
await measure("Worker + ppoll", viaWorker);
child.kill();
worker.terminate();
c.close(fd);
