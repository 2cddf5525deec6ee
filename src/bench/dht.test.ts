import { describe, expect, test } from "bun:test";
import { generateIdentity } from "../identity/identity.ts";
import { keyOf, valueKey } from "../dht/id.ts";
import { RecordKind, signRecord, valuePayload } from "../dht/record.ts";
import { toHex } from "../util/hex.ts";
import { holdsValue, runMacroBench, type LookupLine, type MacroOptions } from "./dht.ts";

describe("icon bench dht", () => {
  const small: MacroOptions = { nodes: 40, loss: 0.05, churn: 0.1, lookups: 60, keys: 10, latency: "lognormal", lossModel: "bursty" };
  const figures = (r: Awaited<ReturnType<typeof runMacroBench>>) => ({ ...r, realMs: undefined, memoryMb: undefined });

  test("the same seed gives the same figures and the same lookups; another seed does not", async () => {
    const lines: LookupLine[][] = [[], [], []];
    const a = await runMacroBench({ ...small, seed: 5, onLookup: (l) => lines[0]!.push(l) });
    const b = await runMacroBench({ ...small, seed: 5, onLookup: (l) => lines[1]!.push(l) });
    const c = await runMacroBench({ ...small, seed: 6, onLookup: (l) => lines[2]!.push(l) });
    expect(figures(b)).toEqual(figures(a));
    expect(lines[1]).toEqual(lines[0]!);
    expect(lines[0]).toHaveLength(60);
    expect(lines[2]!.map((l) => l.from)).not.toEqual(lines[0]!.map((l) => l.from));
    expect(figures(c).lookupMs).not.toEqual(figures(a).lookupMs);
    expect(a.datagrams.lostFraction).toBeGreaterThan(0.03);
    expect(a.datagrams.lostFraction).toBeLessThan(0.07);
  }, 60_000);

  test("a lookup counts only when it brings back the value put, from its publisher", () => {
    const publisher = generateIdentity();
    const other = generateIdentity();
    const key = valueKey(publisher.nodeId, keyOf("value", "k"));
    const record = (who: typeof publisher, value: string, seq: number) =>
      signRecord(who, RecordKind.VALUE, key, { seq, expiresAt: 2e9, payload: valuePayload(keyOf("value", "k"), new TextEncoder().encode(value)) });
    const id = toHex(publisher.nodeId);
    expect(holdsValue([record(publisher, "v", 1)], id, "v")).toBe(true);
    expect(holdsValue([record(publisher, "w", 1)], id, "v")).toBe(false);
    expect(holdsValue([record(other, "v", 1)], id, "v")).toBe(false);
    expect(holdsValue([record(publisher, "v", 1), record(publisher, "old", 0)], id, "v")).toBe(true);
    expect(holdsValue([record(publisher, "v", 1), record(publisher, "newer", 2)], id, "v")).toBe(false);
  });
});
