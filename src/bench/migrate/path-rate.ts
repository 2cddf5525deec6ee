/**
 * The bottleneck rate of a path, measured rather than assumed (the cold floor of `icon bench migrate`
 * is F + bytes shipped / this rate): one TCP connection carries `bytes` as fast as TCP allows, and the
 * receiver times the bytes after the first quarter, once slow start is over, so the rate is the
 * path's steady rate. Each side is a process of its own (`icon bench path-rate`) so that it can run in
 * its own testbed host; both print JSON lines.
 */
import { IconError } from "../../errors.ts";
import { address, inHost, type TestbedStatus } from "../../testbed/index.ts";
import { selfCommand } from "../../testbed/self.ts";
import { lines } from "../../util/lines.ts";
import { quantile } from "../../util/stats.ts";

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

export interface RateResult {
  bytes: number;
  /** First byte to last byte. */
  ms: number;
  /** Bytes per second over the last three quarters of the transfer. */
  steadyBytesPerSec: number;
}

/** The rate over the last three quarters of a transfer, from (ms, bytes so far) marks. */
export function steadyRate(marks: [number, number][]): number {
  const total = marks.at(-1)?.[1] ?? 0;
  const from = marks.find(([, b]) => b >= total / 4);
  const last = marks.at(-1);
  if (!from || !last || last[0] <= from[0]) return NaN;
  return ((last[1] - from[1]) / (last[0] - from[0])) * 1000;
}

type Handlers = { open?(s: Socket): void; data?(s: Socket, chunk: Uint8Array): void; drain?(s: Socket): void; close(): void; error(s: Socket, e: Error): void };
type Socket = { write(b: Uint8Array): number; end(): void };

/**
 * One TCP connection at host:port, accepted there (`listen`) or dialled there, then {ready} on stdout: the
 * side behind a NAT dials out, whichever way the bytes go. Returns what stops the listener.
 */
async function oneConnection(hostname: string, port: number, listen: boolean, socket: Handlers): Promise<() => void> {
  if (!listen) {
    await Bun.connect({ hostname, port, socket });
    say({ ready: true });
    return () => {};
  }
  const server = Bun.listen({ hostname, port, socket });
  say({ ready: true, port: server.port });
  return () => server.stop(true);
}

/** Receives one transfer at host:port (listening, or dialling with `listen` false); prints {ready}, then the RateResult. */
export async function runRateSink(host: string, port: number, listen = true): Promise<void> {
  const marks: [number, number][] = [];
  let got = 0;
  const done = Promise.withResolvers<void>();
  const stop = await oneConnection(host, port, listen, {
    data(_s, chunk) {
      got += chunk.length;
      marks.push([performance.now(), got]);
    },
    close: () => done.resolve(),
    error: (_s, e) => done.reject(e),
  });
  await done.promise;
  stop();
  const ms = marks.length ? marks.at(-1)![0] - marks[0]![0] : 0;
  say({ bytes: got, ms: Math.round(ms), steadyBytesPerSec: Math.round(steadyRate(marks)) } satisfies RateResult);
}

/** Sends `bytes` zero bytes over one connection at host:port (dialling, or listening with `listen`), honouring backpressure. */
export async function runRateSource(host: string, port: number, bytes: number, listen = false): Promise<void> {
  const chunk = new Uint8Array(64 * 1024);
  let left = bytes;
  const done = Promise.withResolvers<void>();
  const pump = (s: Socket) => {
    while (left > 0) {
      const n = s.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      left -= n;
      if (n === 0) return; // drain calls again
    }
    s.end();
  };
  const stop = await oneConnection(host, port, listen, { open: pump, drain: pump, close: () => done.resolve(), error: (_s, e) => done.reject(e) });
  await done.promise;
  stop();
  say({ sent: bytes });
}

/**
 * The steady rate from host `from` to host `to` of a testbed, bytes/s: the median of `runs` transfers
 * of `bytes` each, a sink in `to`'s namespace and a source in `from`'s. The sink listens, unless `to` is
 * behind a NAT and `from` is not: then the source listens and the sink dials it (as pingMatrix pings out
 * of a NAT host); the bytes go from `from` to `to` either way.
 */
export async function measurePathRate(st: TestbedStatus, from: string, to: string, o: { bytes?: number; runs?: number; port?: number } = {}): Promise<number> {
  const nat = (h: string) => st.hosts.find((x) => x.name === h)?.nat !== undefined;
  const sinkDials = nat(to) && !nat(from);
  const at = `${address(st, sinkDials ? from : to)}:${o.port ?? 39_990}`;
  const sinkArgv = inHost(st, to, selfCommand(["bench", "path-rate", "--sink", at, ...(sinkDials ? ["--dial"] : [])]));
  const sourceArgv = inHost(st, from, selfCommand(["bench", "path-rate", "--send", at, "--bytes", String(o.bytes ?? 4 * 2 ** 20), ...(sinkDials ? ["--listen"] : [])]));
  const rates: number[] = [];
  for (let i = 0; i < (o.runs ?? 3); i++) {
    const [listener, dialler] = sinkDials ? [sourceArgv, sinkArgv] : [sinkArgv, sourceArgv];
    const first = Bun.spawn(listener, { stdout: "pipe", stderr: "pipe" });
    const firstOut = lines(first.stdout)[Symbol.asyncIterator]();
    const ready = await firstOut.next();
    if (ready.done || !JSON.parse(ready.value).ready) throw new IconError("FAILED", `the rate ${sinkDials ? "source" : "sink"} did not start: ${await new Response(first.stderr).text()}`);
    const second = Bun.spawn(dialler, { stdout: "pipe", stderr: "pipe" });
    // Either side failing ends the other, so a connection that never comes cannot leave the run waiting.
    const codes = await Promise.all([first, second].map((p) => p.exited.then((code) => (code !== 0 && [first, second].forEach((q) => q.kill()), code))));
    const sinkOut = sinkDials ? await new Response(second.stdout).text() : (await Array.fromAsync(firstOut)).join("\n");
    const result = sinkOut.trim().split("\n").map((l) => JSON.parse(l) as Partial<RateResult>).find((r) => r.steadyBytesPerSec !== undefined);
    if (codes.some((c) => c !== 0) || !result)
      throw new IconError("FAILED", `the rate transfer ${from} -> ${to} failed: ${(await new Response(first.stderr).text()) + (await new Response(second.stderr).text())}`);
    rates.push(result.steadyBytesPerSec!);
  }
  return quantile(rates.sort((a, b) => a - b), 0.5);
}
