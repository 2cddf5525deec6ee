import { describe, expect, test } from "bun:test";
import { classify } from "./classify.ts";

const err = (type: number, code: number, offender?: string, origin = 2) => ({ errno: 0, origin, type, code, ...(offender ? { offender } : {}) });

describe("classify", () => {
  test("time exceeded in transit is a router", () => {
    expect(classify(err(11, 0, "10.0.0.1"), "10.9.9.9")).toEqual({ kind: "router", address: "10.0.0.1" });
  });
  test("fragment reassembly time exceeded is not an answer", () => {
    expect(classify(err(11, 1, "10.0.0.1"), "10.9.9.9")).toBeUndefined();
  });
  test("port unreachable is the destination, even from another address (a NAT)", () => {
    expect(classify(err(3, 3, "10.9.9.9"), "10.9.9.9")).toEqual({ kind: "destination", address: "10.9.9.9" });
    expect(classify(err(3, 3, "10.9.9.1"), "10.9.9.9")).toEqual({ kind: "destination", address: "10.9.9.1" });
  });
  test("other unreachables: from the destination it answered, from a router the path ends", () => {
    expect(classify(err(3, 13, "10.9.9.9"), "10.9.9.9")?.kind).toBe("destination");
    expect(classify(err(3, 1, "10.0.0.5"), "10.9.9.9")).toEqual({ kind: "unreachable", address: "10.0.0.5" });
  });
  test("local errors, missing offenders and other ICMP types say nothing", () => {
    expect(classify(err(3, 3, "10.9.9.9", 1), "10.9.9.9")).toBeUndefined();
    expect(classify(err(11, 0), "10.9.9.9")).toBeUndefined();
    expect(classify(err(12, 0, "10.0.0.1"), "10.9.9.9")).toBeUndefined();
    expect(classify(undefined, "10.9.9.9")).toBeUndefined();
  });
  test("ICMPv6 (origin 3): time exceeded is type 3, port unreachable type 1 code 4", () => {
    const D = "2d00:1c0:1:2::10";
    expect(classify(err(3, 0, "2d00:1c0:0:1::1", 3), D)).toEqual({ kind: "router", address: "2d00:1c0:0:1::1" });
    expect(classify(err(1, 4, D, 3), D)).toEqual({ kind: "destination", address: D });
    expect(classify(err(1, 0, "2d00:1c0:0:1::1", 3), D)).toEqual({ kind: "unreachable", address: "2d00:1c0:0:1::1" });
    expect(classify(err(1, 3, D, 3), D)?.kind).toBe("destination");
    // the same numbers mean other things in ICMPv4: type 3 code 0 is net unreachable there, not a router
    expect(classify(err(3, 0, "10.0.0.5"), "10.9.9.9")?.kind).toBe("unreachable");
    expect(classify(err(11, 0, "2d00:1c0:0:1::1", 3), D)).toBeUndefined();
  });
});
