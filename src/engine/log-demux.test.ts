import { expect, test } from "bun:test";
import { LogDemuxer } from "./log-demux.ts";

function frame(stream: 1 | 2, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const f = new Uint8Array(8 + payload.length);
  f[0] = stream;
  new DataView(f.buffer).setUint32(4, payload.length);
  f.set(payload, 8);
  return f;
}

test("frames cut anywhere come out as whole lines per stream", () => {
  const all = new Uint8Array([...frame(1, "one\ntw"), ...frame(2, "err line\n"), ...frame(1, "o\nthree")]);
  const d = new LogDemuxer();
  const out = [];
  for (let i = 0; i < all.length; i += 3) out.push(...d.push(all.subarray(i, i + 3)));
  out.push(...d.end());
  expect(out).toEqual([
    { stream: "stdout", line: "one" },
    { stream: "stderr", line: "err line" },
    { stream: "stdout", line: "two" },
    { stream: "stdout", line: "three" },
  ]);
});
