/**
 * Docker multiplexes a container's stdout and stderr on one stream (no TTY): frames of an 8-byte header
 * (stream type, 3 zero bytes, big-endian length) and the payload. This splits frames, which may arrive
 * cut anywhere, into whole lines per stream.
 */
import type { LogLine } from "./container-engine.ts";

const HEADER = 8;

export class LogDemuxer {
  private pending = new Uint8Array(0);
  private readonly partial = { stdout: "", stderr: "" };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: Uint8Array): LogLine[] {
    const buf = new Uint8Array(this.pending.length + chunk.length);
    buf.set(this.pending);
    buf.set(chunk, this.pending.length);
    const lines: LogLine[] = [];
    let off = 0;
    while (buf.length - off >= HEADER) {
      const size = new DataView(buf.buffer, buf.byteOffset + off + 4, 4).getUint32(0);
      if (buf.length - off - HEADER < size) break;
      const stream = buf[off] === 2 ? "stderr" : "stdout";
      const text = this.partial[stream] + this.decoders[stream].decode(buf.subarray(off + HEADER, off + HEADER + size), { stream: true });
      const parts = text.split("\n");
      this.partial[stream] = parts.pop()!;
      for (const line of parts) lines.push({ stream, line });
      off += HEADER + size;
    }
    this.pending = buf.slice(off);
    return lines;
  }

  /** Lines left without a final newline. */
  end(): LogLine[] {
    const out: LogLine[] = [];
    for (const stream of ["stdout", "stderr"] as const) if (this.partial[stream]) out.push({ stream, line: this.partial[stream] });
    this.partial.stdout = this.partial.stderr = "";
    return out;
  }
}
