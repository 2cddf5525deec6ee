import { describe, expect, test } from "bun:test";
import { readTar, writeTar } from "./tar.ts";

describe("tar", () => {
  test("round-trips files and directories of any size", () => {
    const big = new Uint8Array(1500).map((_, i) => i & 255);
    const tar = writeTar([{ name: "d/", dir: true }, { name: "d/a.bin", data: big }, { name: "empty", data: new Uint8Array(0) }]);
    expect(tar.length % 512).toBe(0);
    const entries = readTar(tar);
    expect(entries.map((e) => [e.name, e.type, e.data.length])).toEqual([["d/", "5", 0], ["d/a.bin", "0", 1500], ["empty", "0", 0]]);
    expect(entries[1]!.data).toEqual(big);
  });
  test("rejects a corrupted header and a truncated entry", () => {
    const tar = writeTar([{ name: "f", data: new Uint8Array(2000) }]);
    const corrupt = tar.slice();
    corrupt[10] = 65;
    expect(() => readTar(corrupt)).toThrow(/corrupt tar header/);
    expect(() => readTar(tar.slice(0, 1024))).toThrow(/truncated/);
  });
  test("refuses paths that do not fit a ustar header", () => {
    expect(() => writeTar([{ name: "x".repeat(101), data: new Uint8Array(1) }])).toThrow(/too long/);
  });
});
