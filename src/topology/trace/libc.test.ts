import { expect, test } from "bun:test";
import { libc, realtimeMs } from "./libc.ts";

test("the realtime clock agrees with Date.now", () => {
  expect(Math.abs(realtimeMs(libc()) - Date.now())).toBeLessThan(50);
});
