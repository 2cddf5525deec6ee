/**
 * The one tar implementation of the project. Writing: a streaming ustar writer for image root
 * filesystems, build contexts and image archives for `docker load`: files are read from disk (or from a stream)
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
  /** ...or a host file streamed from disk... */
  source?: string;
  /** ...or chunks that must add up to `size` exactly (else the archive fails with their error). */
  stream?: { size: number; chunks: AsyncIterable<Uint8Array> };
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
    const size = data ? data.length : it.stream ? it.stream.size : Bun.file(it.source!).size;
    yield header(it.path, size, "file", it.mode);
    let written = 0;
    if (data) {
      yield data;
      written = data.length;
    } else {
      for await (const chunk of it.stream ? it.stream.chunks : Bun.file(it.source!).stream()) {
        written += chunk.length;
        if (written > size) break;
        yield chunk;
      }
    }
    if (written !== size) throw new Error(`${it.source ?? it.path} is not the ${size} bytes its header says`);
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

interface Header {
  name: string;
  type: string;
  size: number;
}

/** One 512-byte header block, checksum verified; undefined for the zero block that ends an archive. */
function parseHeader(h: Uint8Array, off: number): Header | undefined {
  if (h.every((x) => x === 0)) return undefined;
  const stored = octal(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  if (sum !== stored) throw new Error(`corrupt tar header at offset ${off}`);
  const prefix = cstring(h.subarray(345, 500));
  const name = prefix ? `${prefix}/${cstring(h.subarray(0, 100))}` : cstring(h.subarray(0, 100));
  return { name, type: String.fromCharCode(h[156] || 48), size: octal(h.subarray(124, 136)) };
}

/** Pax and GNU long-name records name the entry after them; "g" (global pax) is skipped. */
function longNameOf(type: string, data: Uint8Array): string | undefined | null {
  if (type === "L") return cstring(data);
  if (type === "x") return /\d+ path=([^\n]*)\n/.exec(dec.decode(data))?.[1] ?? null;
  if (type === "g") return null;
  return undefined;
}

/**
 * Reading: the entries of a whole archive held in memory; throws on a truncated or corrupt one. Pax and
 * GNU long-name records are honoured (Docker's paths fit in 100 bytes, but a reader must not choke on them).
 */
export function readTar(buf: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= buf.length) {
    const h = parseHeader(buf.subarray(off, off + BLOCK), off);
    if (!h) break;
    const start = off + BLOCK;
    if (start + h.size > buf.length) throw new Error(`tar entry ${h.name} is truncated`);
    // A plain Uint8Array view: callers may copy with .slice(), which on a Node Buffer would not copy.
    const data = new Uint8Array(buf.buffer, buf.byteOffset + start, h.size);
    off = start + Math.ceil(h.size / BLOCK) * BLOCK;
    const long = longNameOf(h.type, data);
    if (long === null) continue;
    if (long !== undefined) {
      longName = long;
      continue;
    }
    out.push({ name: longName ?? h.name, type: h.type, data });
    longName = undefined;
  }
  return out;
}

/** An entry of a streamed archive: its body must be read (or is skipped) before the next entry comes. */
export interface TarStreamEntry {
  name: string;
  type: string;
  size: number;
  body: AsyncIterable<Uint8Array>;
}

/** Exact reads from a stream of chunks, holding at most one chunk. */
class ChunkReader {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly it: AsyncIterator<Uint8Array>;
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.buf.length) return true;
    const r = await this.it.next();
    if (r.done) return false;
    this.buf = r.value as Uint8Array;
    return true;
  }

  /** Up to n bytes (fewer only at the end of the stream), as they come. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    while (n > 0) {
      if (!(await this.fill())) throw new Error(`tar archive is truncated at offset ${this.offset}`);
      const part = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(part.length);
      n -= part.length;
      this.offset += part.length;
      yield part;
    }
  }

  async exactly(n: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const p of this.take(n)) parts.push(p.slice());
    return parts.length === 1 ? parts[0]! : new Uint8Array(Buffer.concat(parts));
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }
}

/**
 * Reading a streamed archive (what `docker save` writes) without holding it: entries come one by one,
 * each body a stream of the source's own chunks. Throws on a truncated or corrupt archive.
 */
export async function* tarEntries(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarStreamEntry> {
  const r = new ChunkReader(source);
  let longName: string | undefined;
  while (!(await r.atEnd())) {
    const at = r.offset;
    const h = parseHeader(await r.exactly(BLOCK), at);
    if (!h) return;
    const padded = Math.ceil(h.size / BLOCK) * BLOCK;
    if (h.type === "L" || h.type === "x" || h.type === "g") {
      const long = longNameOf(h.type, (await r.exactly(padded)).subarray(0, h.size));
      if (long) longName = long;
      continue;
    }
    let left = h.size;
    const body = (async function* () {
      for await (const part of r.take(left)) {
        left -= part.length;
        yield part;
      }
    })();
    yield { name: longName ?? h.name, type: h.type, size: h.size, body };
    longName = undefined;
    for await (const _ of r.take(left + padded - h.size)); // what the consumer left unread, and the padding
  }
}
