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

test("the streaming reader gets the same entries from any chunking, skips unread bodies, and rejects a truncated archive", async () => {
  const { tarBytes, tarEntries } = await import("./tar.ts");
  const big = new Uint8Array(70_000).map((_, i) => (i * 7) & 255);
  const longPath = `${"deep/".repeat(25)}file.txt`;
  const tar = await tarBytes([
    { path: "a.bin", type: "file", mode: 0o644, data: big },
    { path: "skipped.bin", type: "file", mode: 0o644, data: new Uint8Array(3000).fill(9) },
    { path: "c.txt", type: "file", mode: 0o644, stream: { size: 5, chunks: (async function* () { yield new TextEncoder().encode("he"); yield new TextEncoder().encode("llo"); })() } },
  ]);
  // A GNU long-name record before an entry, as other writers make for paths over 100 bytes.
  const gnu = Bun.spawnSync(["sh", "-c", `cd "$(mktemp -d)" && mkdir -p "$(dirname ${longPath})" && echo x > ${longPath} && tar --format=gnu -cf - ${longPath}`]).stdout;
  for (const chunk of [1, 511, 4096, tar.length]) {
    async function* pieces(buf: Uint8Array) {
      for (let o = 0; o < buf.length; o += chunk) yield buf.subarray(o, o + chunk);
    }
    const seen: [string, number, Uint8Array | undefined][] = [];
    for await (const e of tarEntries(pieces(tar))) {
      if (e.name === "skipped.bin") {
        seen.push([e.name, e.size, undefined]);
        continue;
      }
      const parts: Uint8Array[] = [];
      for await (const p of e.body) parts.push(p.slice());
      seen.push([e.name, e.size, new Uint8Array(Buffer.concat(parts))]);
    }
    expect(seen.map(([n, s]) => [n, s])).toEqual([["a.bin", 70_000], ["skipped.bin", 3000], ["c.txt", 5]]);
    expect(seen[0]![2]).toEqual(big);
    expect(new TextDecoder().decode(seen[2]![2])).toBe("hello");
    const names: string[] = [];
    for await (const e of tarEntries(pieces(new Uint8Array(gnu)))) names.push(e.name);
    expect(names).toEqual([longPath]);
  }
  const drain = async (buf: Uint8Array) => {
    for await (const e of tarEntries((async function* () { yield buf; })())) for await (const _ of e.body);
  };
  await expect(drain(tar.slice(0, 40_000))).rejects.toThrow(/truncated/);
});

test("an item streamed with a wrong size fails the archive instead of writing a bad header", async () => {
  const { tarBytes } = await import("./tar.ts");
  const chunks = (async function* () { yield new Uint8Array(10); })();
  await expect(tarBytes([{ path: "x", type: "file", mode: 0o644, stream: { size: 4, chunks } }])).rejects.toThrow(/not the 4 bytes/);
});
