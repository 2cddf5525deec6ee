/**
 * A streaming ustar writer for image root filesystems and build contexts: files are read from disk
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
