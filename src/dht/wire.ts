/**
 * Bounds-checked byte reading and writing for the codec. Every read past the end, and every field the
 * codec rejects, throws a DecodeError naming the field, so a malformed datagram is dropped and counted.
 */
import { MAX_DATAGRAM } from "./constants.ts";
import { ipv4ToBytes } from "../util/ipv4.ts";
import { formatIPv6, ipv6ToBytes } from "../util/ipv6.ts";

export class DecodeError extends Error {
  override readonly name = "DecodeError";
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

/** Reads by hand rather than through a DataView: a DataView needs the array's `.buffer`, costly in JavaScriptCore. */
export class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  private need(n: number, field: string): void {
    if (this.remaining < n) throw new DecodeError(field, `needs ${n} bytes, ${this.remaining} left`);
  }
  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }
  private be(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.buf[this.pos + i]!;
    this.pos += n;
    return v;
  }
  u16(field: string): number {
    this.need(2, field);
    return this.be(2);
  }
  u32(field: string): number {
    this.need(4, field);
    return this.be(4);
  }
  /** Unsigned 48-bit integer (exact in a JS number). */
  u48(field: string): number {
    this.need(6, field);
    return this.be(6);
  }
  f32(field: string): number {
    this.need(4, field);
    F32_BYTES.set(this.buf.subarray(this.pos, this.pos + 4));
    this.pos += 4;
    return F32_VIEW.getFloat32(0);
  }
  /** A view of the next n bytes (copied, so the datagram buffer can be reused). */
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  ipv4(field: string): string {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
  }
  /** 16 bytes as canonical IPv6 text. */
  ipv6(field: string): string {
    this.need(16, field);
    const out = formatIPv6(this.buf.subarray(this.pos, this.pos + 16));
    this.pos += 16;
    return out;
  }
}

const F32_BYTES = new Uint8Array(4);
const F32_VIEW = new DataView(F32_BYTES.buffer);

// One scratch buffer for every encode: encoding is synchronous and finish() copies out.
const SCRATCH = new Uint8Array(MAX_DATAGRAM * 2);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

export class Writer {
  pos = 0;
  private readonly buf = SCRATCH;
  private readonly view = SCRATCH_VIEW;
  u8(v: number): this {
    this.buf[this.pos++] = v;
    return this;
  }
  u16(v: number): this {
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }
  u48(v: number): this {
    this.view.setUint16(this.pos, Math.floor(v / 2 ** 32));
    this.view.setUint32(this.pos + 2, v % 2 ** 32);
    this.pos += 6;
    return this;
  }
  f32(v: number): this {
    this.view.setFloat32(this.pos, v);
    this.pos += 4;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  ipv4(address: string): this {
    const parts = ipv4ToBytes(address);
    if (!parts) throw new Error(`not an IPv4 address: ${address}`);
    for (const p of parts) this.buf[this.pos++] = p;
    return this;
  }
  ipv6(address: string): this {
    const b = ipv6ToBytes(address);
    if (!b) throw new Error(`not an IPv6 address: ${address}`);
    return this.bytes(b);
  }
  zeros(n: number): this {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }
  /** The bytes written so far, as a new array. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Addresses a contact may have: unicast IPv4 (not 0.0.0.0, not multicast or broadcast). */
export function isContactAddress(address: string): boolean {
  const p = ipv4ToBytes(address);
  return !!p && p[0] !== 0 && p[0]! < 224;
}

/**
 * IPv6 addresses a contact may have: unicast, and neither IPv4-mapped (that is an IPv4 contact) nor
 * link-local (it needs a zone, an interface of the receiver, which the wire cannot carry).
 */
export function isContactAddress6(address: string): boolean {
  const b = ipv6ToBytes(address);
  if (!b || b[0] === 0xff || (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80)) return false;
  const zeroTo = (n: number) => b.subarray(0, n).every((x) => x === 0);
  if (zeroTo(10) && b[10] === 0xff && b[11] === 0xff) return false;
  return !zeroTo(16);
}

export function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address.startsWith("::ffff:127.");
}
