import { expect, test } from "bun:test";
import { IconError } from "../errors.ts";
import { assertTransition, canTransition } from "./state.ts";

test("the state machine allows the lifecycle and refuses shortcuts", () => {
  expect(canTransition("STOPPED", "STARTING")).toBe(true);
  expect(canTransition("STARTING", "WAITING_READY")).toBe(true);
  expect(canTransition("WAITING_READY", "RUNNING")).toBe(true);
  expect(canTransition("RUNNING", "STOPPED")).toBe(true);
  expect(canTransition("RUNNING", "FAILED")).toBe(true);
  expect(canTransition("FAILED", "STARTING")).toBe(true);
  expect(canTransition("STOPPED", "RUNNING")).toBe(false);
  expect(canTransition("STARTING", "RUNNING")).toBe(false);
  expect(canTransition("FAILED", "RUNNING")).toBe(false);
  // warm: only a running ICON pauses; a paused one thaws to RUNNING or stops, never waits for ready again
  expect(canTransition("RUNNING", "PAUSED")).toBe(true);
  expect(canTransition("PAUSED", "RUNNING")).toBe(true);
  expect(canTransition("PAUSED", "STOPPED")).toBe(true);
  expect(canTransition("STOPPED", "PAUSED")).toBe(false);
  expect(canTransition("PAUSED", "WAITING_READY")).toBe(false);
  expect(() => assertTransition("x", "STOPPED", "RUNNING")).toThrow(IconError);
});
