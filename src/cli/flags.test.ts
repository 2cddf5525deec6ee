import { describe, expect, test } from "bun:test";
import { choiceFlag, numberFlag, optionalNumberFlag } from "./flags.ts";

describe("numeric flags", () => {
  test("absent gives the default (or undefined); a value within the bounds is taken", () => {
    expect(numberFlag({}, "count", 20, { int: true, min: 1 })).toBe(20);
    expect(optionalNumberFlag({}, "port", { int: true })).toBeUndefined();
    expect(numberFlag({ loss: "0.01" }, "loss", 0, { min: 0, below: 1 })).toBe(0.01);
    expect(numberFlag({ "max-ttl": "64" }, "max-ttl", 30, { int: true, min: 1, max: 64 })).toBe(64);
  });
  test.each([
    [{ "max-ttl": "0" }, "max-ttl", { int: true, min: 1, max: 64 }, "--max-ttl 0 is not a whole number from 1 to 64"],
    [{ count: "2.5" }, "count", { int: true, min: 1 }, "--count 2.5 is not a whole number of at least 1"],
    [{ loss: "1" }, "loss", { min: 0, below: 1 }, "--loss 1 is not a number from 0 to below 1"],
    [{ "timeout-ms": "0" }, "timeout-ms", { above: 0 }, "--timeout-ms 0 is not a number above 0"],
    [{ cpus: "" }, "cpus", {}, "--cpus  is not a number"],
    [{ cpus: "abc" }, "cpus", {}, "--cpus abc is not a number"],
    [{ n: "0" }, "n", { int: true, min: 1 }, "-n 0 is not a whole number of at least 1"],
  ])("%p %s is refused with what it takes", (values, flag, rule, message) => {
    expect(() => numberFlag(values, flag, 1, rule)).toThrow(message);
  });
});

describe("choice flags", () => {
  test("absent gives the default; one of the words is taken; anything else names the choices", () => {
    expect(choiceFlag({}, "latency", ["uniform", "lognormal"], "uniform")).toBe("uniform");
    expect(choiceFlag({ latency: "lognormal" }, "latency", ["uniform", "lognormal"], "uniform")).toBe("lognormal");
    expect(() => choiceFlag({ latency: "pareto" }, "latency", ["uniform", "lognormal"], "uniform")).toThrow("--latency pareto: expected uniform or lognormal");
    expect(() => choiceFlag({ x: "d" }, "x", ["a", "b", "c"], "a")).toThrow("expected a, b or c");
  });
});
