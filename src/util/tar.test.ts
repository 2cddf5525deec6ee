import { expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tarStream } from "./tar.ts";

async function bytes(items: Parameters<typeof tarStream>[0]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarStream(items)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

test("the archive is read by GNU tar with modes, and is byte-for-byte reproducible", async () => {
  const dir = await mkdtemp(join(tmpdir(), "icon-tar-"));
  try {
    const src = join(dir, "big.bin");
    await Bun.write(src, new Uint8Array(70_001).map((_, i) => i % 251));
    const items = [
      { path: "tmp", type: "dir" as const, mode: 0o1777 },
      { path: "usr/local/bin/icon", type: "file" as const, mode: 0o755, source: src },
      { path: "etc/passwd", type: "file" as const, mode: 0o644, data: "nobody:x:65534:65534::/tmp:/sbin/nologin\n" },
    ];
    const a = await bytes(items);
    expect((await bytes(items)).equals(a)).toBe(true);
    const archive = join(dir, "a.tar");
    await Bun.write(archive, a);
    const list = Bun.spawnSync(["tar", "-tvf", archive, "--numeric-owner"]).stdout.toString();
    expect(list).toMatch(/drwxrwxrwt 0\/0\s+0 1970-01-01 00:00 tmp\//);
    expect(list).toMatch(/-rwxr-xr-x 0\/0\s+70001 1970-01-01 00:00 usr\/local\/bin\/icon/);
    const out = Bun.spawnSync(["tar", "-xOf", archive, "usr/local/bin/icon"]).stdout;
    expect(Buffer.from(out).equals(Buffer.from(await Bun.file(src).arrayBuffer()))).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the reader gets back what the writer wrote, and rejects a corrupted header or a truncated entry", async () => {
  const { readTar, tarBytes } = await import("./tar.ts");
  const big = new Uint8Array(1500).map((_, i) => i & 255);
  const tar = await tarBytes([
    { path: "d", type: "dir", mode: 0o755 },
    { path: "d/a.bin", type: "file", mode: 0o644, data: big },
    { path: "empty", type: "file", mode: 0o644, data: new Uint8Array(0) },
  ]);
  const entries = readTar(tar);
  expect(entries.map((e) => [e.name, e.type, e.data.length])).toEqual([["d/", "5", 0], ["d/a.bin", "0", 1500], ["empty", "0", 0]]);
  expect(entries[1]!.data).toEqual(big);
  const corrupt = tar.slice();
  corrupt[10] = 65;
  expect(() => readTar(corrupt)).toThrow(/corrupt tar header/);
  expect(() => readTar(tar.slice(0, 1024))).toThrow(/truncated/);
});
