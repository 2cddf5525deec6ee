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

/** Accepts one connection on listen:port, reads it to the end, prints {ready} first and the RateResult last. */
export async function runRateSink(listen: string, port: number): Promise<void> {
  const marks: [number, number][] = [];
  let got = 0;
  const done = Promise.withResolvers<void>();
  const server = Bun.listen({
    hostname: listen, port,
    socket: {
      data(_s, chunk) {
        got += chunk.length;
        marks.push([performance.now(), got]);
      },
      close: () => done.resolve(),
      error: (_s, e) => done.reject(e),
    },
  });
  say({ ready: true, port: server.port });
  await done.promise;
  server.stop(true);
  const ms = marks.length ? marks.at(-1)![0] - marks[0]![0] : 0;
  say({ bytes: got, ms: Math.round(ms), steadyBytesPerSec: Math.round(steadyRate(marks)) } satisfies RateResult);
}

/** Connects to to:port and sends `bytes` zero bytes, honouring backpressure, then closes. */
export async function runRateSource(to: string, port: number, bytes: number): Promise<void> {
  const chunk = new Uint8Array(64 * 1024);
  let left = bytes;
  const done = Promise.withResolvers<void>();
  const pump = (s: { write(b: Uint8Array): number; end(): void }) => {
    while (left > 0) {
      const n = s.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      left -= n;
      if (n === 0) return; // drain calls again
    }
    s.end();
  };
  await Bun.connect({ hostname: to, port, socket: { open: pump, drain: pump, close: () => done.resolve(), error: (_s, e) => done.reject(e) } });
  await done.promise;
  say({ sent: bytes });
}

/**
 * The steady rate from host `from` to host `to` of a testbed, bytes/s: the median of `runs` transfers
 * of `bytes` each, a sink in `to`'s namespace and a source in `from`'s.
 */
export async function measurePathRate(st: TestbedStatus, from: string, to: string, o: { bytes?: number; runs?: number; port?: number } = {}): Promise<number> {
  const target = `${address(st, to)}:${o.port ?? 39_990}`;
  const rates: number[] = [];
  for (let i = 0; i < (o.runs ?? 3); i++) {
    const sink = Bun.spawn(inHost(st, to, selfCommand(["bench", "path-rate", "--sink", target])), { stdout: "pipe", stderr: "pipe" });
    const out = lines(sink.stdout)[Symbol.asyncIterator]();
    const first = await out.next();
    if (first.done || !JSON.parse(first.value).ready) throw new IconError("FAILED", `the rate sink in ${to} did not start: ${await new Response(sink.stderr).text()}`);
    const source = Bun.spawn(inHost(st, from, selfCommand(["bench", "path-rate", "--send", target, "--bytes", String(o.bytes ?? 4 * 2 ** 20)])), { stdout: "ignore", stderr: "pipe" });
    const [result, code] = await Promise.all([out.next(), source.exited]);
    if (code !== 0 || result.done) throw new IconError("FAILED", `the rate transfer ${from} -> ${to} failed: ${await new Response(source.stderr).text()}`);
    await sink.exited;
    rates.push((JSON.parse(result.value) as RateResult).steadyBytesPerSec);
  }
  return quantile(rates.sort((a, b) => a - b), 0.5);
}
