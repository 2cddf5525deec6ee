import { expect, test } from "bun:test";
import zlib from "node:zlib";
import { checkFrameHeader, compressor, inflate } from "./zstd.ts";

async function* pieces(buf: Uint8Array, size = 4096) {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, o + size);
}

async function compress(raw: Uint8Array): Promise<Uint8Array> {
  const c = compressor(raw.length);
  const out: Uint8Array[] = [];
  c.on("data", (d: Uint8Array) => out.push(d));
  const done = new Promise((r) => c.on("end", r));
  c.end(raw);
  await done;
  return new Uint8Array(Buffer.concat(out));
}

/** Zeros compressed as a stream that never learns their size: a frame with no content size in its header. */
async function zerosWithoutSize(mib: number): Promise<Uint8Array> {
  const c = zlib.createZstdCompress();
  const out: Uint8Array[] = [];
  c.on("data", (d: Uint8Array) => out.push(d));
  const done = new Promise((r) => c.on("end", r));
  const mb = new Uint8Array(1 << 20);
  for (let i = 0; i < mib; i++) c.write(mb);
  c.end();
  await done;
  return new Uint8Array(Buffer.concat(out));
}

async function drain(it: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of it) n += c.length;
  return n;
}

test("a compressed layer inflates back to exactly its declared size", async () => {
  const raw = new Uint8Array(300_000).map((_, i) => (i * 31) % 97);
  const z = await compress(raw);
  expect(z.length).toBeLessThan(raw.length);
  const out: Uint8Array[] = [];
  for await (const c of inflate(pieces(z, 7), raw.length, "layer x")) out.push(c.slice());
  expect(new Uint8Array(Buffer.concat(out))).toEqual(raw);
  // Declared larger than it is: refused at the end, not accepted short.
  await expect(drain(inflate(pieces(z), raw.length + 1, "layer x"))).rejects.toThrow(/inflated to 300000 bytes, 300001 were declared/);
});

test("a frame whose header states more than was declared is refused before anything is inflated", async () => {
  const z = zlib.zstdCompressSync(new Uint8Array(1 << 20)); // one-shot: the header carries the size
  expect(() => checkFrameHeader(z, 4096, "layer y")).toThrow(/says it inflates to 1048576 bytes, 4096 were declared/);
  await expect(drain(inflate(pieces(z), 4096, "layer y"))).rejects.toThrow(/says it inflates to/);
});

test("a bomb with no stated size stops at the first byte over the declaration", async () => {
  const bomb = await zerosWithoutSize(256); // 256 MiB of zeros in a few KB
  expect(bomb.length).toBeLessThan(64 * 1024);
  let inflated = 0;
  const run = async () => {
    for await (const c of inflate(pieces(bomb), 1 << 20, "layer z")) inflated += c.length;
  };
  await expect(run()).rejects.toThrow(/inflates beyond the 1048576 bytes declared/);
  expect(inflated).toBeLessThanOrEqual(1 << 20);
});

test("a frame asking for a huge window, a dictionary, or with no zstd magic is refused", () => {
  const frame = (fhd: number, wd: number) => new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, fhd, wd, 0, 0, 0, 0]);
  expect(() => checkFrameHeader(frame(0, (21 << 3)), 1 << 30, "w")).toThrow(/2147483648 byte zstd window/);
  expect(() => checkFrameHeader(frame(1, 0), 100, "d")).toThrow(/dictionary/);
  expect(() => checkFrameHeader(new Uint8Array(10), 100, "m")).toThrow(/no zstd frame magic/);
  expect(() => checkFrameHeader(frame(0, 13 << 3), 100, "ok")).not.toThrow(); // an 8 MiB window is fine
});

test("garbage after a valid header is a clear error", async () => {
  const z = (await compress(new Uint8Array(100_000).fill(7))).slice();
  z.fill(0xee, 12);
  await expect(drain(inflate(pieces(z), 100_000, "layer g"))).rejects.toThrow(/layer g is not valid zstd data/);
});
