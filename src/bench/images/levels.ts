/**
 * Which zstd level ships a layer fastest: for each level, compress (once, as the source does when its
 * ICON starts), transfer at a bottleneck rate, and inflate as the receiver does (streamed, bounded).
 * The best level per rate minimizes compress + transfer + inflate. images/zstd.ts's LAYER_ZSTD_LEVEL
 * is the one chosen for the thesis network's 10 Mbit/s bottleneck (docs/migration.md).
 */
import { compressor, inflate } from "../../images/zstd.ts";

export interface LevelRow {
  level: number;
  bytes: number;
  ratio: number;
  compressMs: number;
  inflateMs: number;
  /** compress + transfer + inflate, per bottleneck rate in Mbit/s. */
  totalMs: Record<number, number>;
}

export interface LevelsReport {
  rawBytes: number;
  rows: LevelRow[];
  /** The level with the least total, per rate. */
  best: Record<number, number>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function compress(raw: Uint8Array, level: number): Promise<Uint8Array> {
  const z = compressor(raw.length, level);
  const out: Uint8Array[] = [];
  z.on("data", (c: Uint8Array) => out.push(c));
  const done = new Promise((resolve, reject) => z.on("end", resolve).on("error", reject));
  for (let o = 0; o < raw.length; o += 256 * 1024) if (!z.write(raw.subarray(o, o + 256 * 1024))) await new Promise((r) => z.once("drain", r));
  z.end();
  await done;
  return new Uint8Array(Buffer.concat(out));
}

async function* pieces(z: Uint8Array) {
  for (let o = 0; o < z.length; o += 256 * 1024) yield z.subarray(o, o + 256 * 1024);
}

export async function measureLevels(raw: Uint8Array, o: { levels: number[]; ratesMbit: number[]; rounds: number }): Promise<LevelsReport> {
  const rows: LevelRow[] = [];
  for (const level of o.levels) {
    const c: number[] = [];
    const d: number[] = [];
    let bytes = 0;
    for (let r = 0; r < o.rounds; r++) {
      let t = performance.now();
      const z = await compress(raw, level);
      c.push(performance.now() - t);
      bytes = z.length;
      t = performance.now();
      let n = 0;
      for await (const piece of inflate(pieces(z), raw.length, "bench layer")) n += piece.length;
      d.push(performance.now() - t);
      if (n !== raw.length) throw new Error(`level ${level} did not round-trip`);
    }
    const [compressMs, inflateMs] = [median(c), median(d)];
    const totalMs = Object.fromEntries(o.ratesMbit.map((rate) => [rate, Math.round(compressMs + (bytes * 8) / (rate * 1e3) + inflateMs)]));
    rows.push({ level, bytes, ratio: Math.round((raw.length / bytes) * 100) / 100, compressMs: Math.round(compressMs), inflateMs: Math.round(inflateMs), totalMs });
  }
  const best = Object.fromEntries(o.ratesMbit.map((rate) => [rate, rows.reduce((a, b) => (b.totalMs[rate]! < a.totalMs[rate]! ? b : a)).level]));
  return { rawBytes: raw.length, rows, best };
}
