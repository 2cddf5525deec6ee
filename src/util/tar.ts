/**
 * The one tar implementation of the project. Writing: a streaming ustar writer for image root
 * filesystems, build contexts and partial image archives: files are read from disk
 * chunk by chunk (the icon binary is over 100 MB), every entry has mtime 0 and owner 0:0, so the same
 * inputs always give the same bytes, hence the same layer diffID on every node (which lets image
 * distribution skip the runtime layer a peer already holds).
 */
import { Readable } from "node:stream";

export interface TarItem {
  /** Path inside the archive, without a leading slash. */
  path: string;
  type: "dir" | "file";
  mode: number;
  /** File content in memory... */
  data?: Uint8Array | string;
  /** ...or a host file streamed from disk. */
  source?: string;
}

const BLOCK = 512;
const enc = new TextEncoder();

function header(path: string, size: number, type: "dir" | "file", mode: number): Uint8Array {
  const name = type === "dir" ? path.replace(/\/?$/, "/") : path;
  if (enc.encode(name).length > 100) throw new Error(`tar path longer than 100 bytes: ${name}`);
  const h = new Uint8Array(BLOCK);
  const put = (s: string, at: number) => h.set(enc.encode(s), at);
  put(name, 0);
  put(mode.toString(8).padStart(7, "0"), 100);
  put("0000000", 108); // uid
  put("0000000", 116); // gid
  put(size.toString(8).padStart(11, "0"), 124);
  put("00000000000", 136); // mtime: the epoch, for reproducible layers
  h.fill(32, 148, 156);
  h[156] = (type === "dir" ? "5" : "0").charCodeAt(0);
  put("ustar\x0000", 257);
  let sum = 0;
  for (const x of h) sum += x;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

async function* generate(items: TarItem[]): AsyncGenerator<Uint8Array> {
  for (const it of items) {
    if (it.type === "dir") {
      yield header(it.path, 0, "dir", it.mode);
      continue;
    }
    const data = typeof it.data === "string" ? enc.encode(it.data) : it.data;
    const size = data ? data.length : Bun.file(it.source!).size;
    yield header(it.path, size, "file", it.mode);
    let written = 0;
    if (data) {
      yield data;
      written = data.length;
    } else {
      for await (const chunk of Bun.file(it.source!).stream()) {
        yield chunk;
        written += chunk.length;
      }
    }
    if (written !== size) throw new Error(`${it.source} changed size while it was archived`);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) yield new Uint8Array(pad);
  }
  yield new Uint8Array(BLOCK * 2);
}

/** The archive as a Node stream (what the engine API takes). */
export function tarStream(items: TarItem[]): Readable {
  return Readable.from(generate(items), { objectMode: false });
}

/** The archive in memory. */
export async function tarBytes(items: TarItem[]): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of generate(items)) chunks.push(c);
  const b = Buffer.concat(chunks);
  return new Uint8Array(b.buffer, b.byteOffset, b.length); // not a Buffer: its slice() would not copy

}

export interface TarEntry {
  name: string;
  /** "0" file, "5" directory, "2" symlink, ... */
  type: string;
  data: Uint8Array;
}

const dec = new TextDecoder();
function cstring(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return dec.decode(nul >= 0 ? b.subarray(0, nul) : b);
}
function octal(b: Uint8Array): number {
  const s = cstring(b).trim();
  return s ? parseInt(s, 8) : 0;
}

/**
 * Reading: the entries of a whole archive held in memory (what `docker save` writes); throws on a
 * truncated or corrupt one. Pax and GNU long-name records are honoured (Docker's paths fit in 100 bytes,
 * but a reader must not choke on them).
 */
export function readTar(buf: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) break;
    const stored = octal(h.subarray(148, 156));
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== stored) throw new Error(`corrupt tar header at offset ${off}`);
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156] || 48);
    const prefix = cstring(h.subarray(345, 500));
    const name = prefix ? `${prefix}/${cstring(h.subarray(0, 100))}` : cstring(h.subarray(0, 100));
    const start = off + BLOCK;
    if (start + size > buf.length) throw new Error(`tar entry ${name} is truncated`);
    // A plain Uint8Array view: callers may copy with .slice(), which on a Node Buffer would not copy.
    const data = new Uint8Array(buf.buffer, buf.byteOffset + start, size);
    off = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L") {
      longName = cstring(data);
      continue;
    }
    if (type === "x") {
      const m = /\d+ path=([^\n]*)\n/.exec(dec.decode(data));
      if (m) longName = m[1];
      continue;
    }
    if (type === "g") continue;
    out.push({ name: longName ?? name, type, data });
    longName = undefined;
  }
  return out;
}
