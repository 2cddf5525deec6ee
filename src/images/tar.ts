/**
 * Just enough of the tar format for Docker image archives: read the entries of `docker save` and write
 * the partial archive that `docker load` takes. ustar headers; pax and GNU long-name records are
 * honoured on read (Docker's own paths fit in 100 bytes, but a reader must not choke on them).
 */

export interface TarEntry {
  name: string;
  /** "0" file, "5" directory, "2" symlink, ... */
  type: string;
  data: Uint8Array;
  linkName?: string;
  mode?: number;
}

const BLOCK = 512;
const dec = new TextDecoder();
const enc = new TextEncoder();

function cstring(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return dec.decode(nul >= 0 ? b.subarray(0, nul) : b);
}
function octal(b: Uint8Array): number {
  const s = cstring(b).trim();
  return s ? parseInt(s, 8) : 0;
}

/** Parses a whole tar archive held in memory; throws on a truncated or corrupt one. */
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
    let name = cstring(h.subarray(0, 100));
    if (prefix) name = `${prefix}/${name}`;
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
    out.push({ name: longName ?? name, type, data, linkName: cstring(h.subarray(157, 257)) || undefined, mode: octal(h.subarray(100, 108)) });
    longName = undefined;
  }
  return out;
}

function header(name: string, size: number, type: string, mode: number): Uint8Array {
  if (enc.encode(name).length > 100) throw new Error(`tar path too long: ${name}`);
  const h = new Uint8Array(BLOCK);
  const put = (s: string, at: number, len: number) => h.set(enc.encode(s).subarray(0, len), at);
  put(name, 0, 100);
  put(mode.toString(8).padStart(7, "0"), 100, 8);
  put("0000000", 108, 8);
  put("0000000", 116, 8);
  put(size.toString(8).padStart(11, "0"), 124, 12);
  put("00000000000", 136, 12);
  h.fill(32, 148, 156);
  h[156] = type.charCodeAt(0);
  put("ustar", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const x of h) sum += x;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

/** Writes entries (files and directories) as one tar archive in memory. */
export function writeTar(entries: { name: string; data?: Uint8Array; dir?: boolean }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    const h = header(e.dir ? e.name.replace(/\/?$/, "/") : e.name, e.dir ? 0 : data.length, e.dir ? "5" : "0", e.dir ? 0o755 : 0o644);
    parts.push(h);
    total += BLOCK;
    if (!e.dir && data.length) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(new Uint8Array(pad));
      total += data.length + pad;
    }
  }
  parts.push(new Uint8Array(BLOCK * 2));
  total += BLOCK * 2;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
