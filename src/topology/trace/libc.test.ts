import { describe, expect, test } from "bun:test";
import { FFIType } from "bun:ffi";
import { isIconError } from "../../errors.ts";
import { libc, openLibc, realtimeMs } from "./libc.ts";

describe("libc", () => {
  test("a missing library is UNSUPPORTED with a fix", () => {
    let caught: unknown;
    try {
      openLibc(["libicon-does-not-exist.so.9"]);
    } catch (e) {
      caught = e;
    }
    expect(isIconError(caught, "UNSUPPORTED")).toBe(true);
    expect((caught as Error).message).toContain("libicon-does-not-exist.so.9");
    expect((caught as { fix?: string }).fix).toContain("glibc");
  });
  test("a missing symbol is UNSUPPORTED too", () => {
    const symbols = { icon_no_such_function: { args: [], returns: FFIType.i32 } };
    expect(() => openLibc(["libc.so.6"], symbols)).toThrow(/cannot load the C library functions.*icon_no_such_function/);
  });
  test("the realtime clock agrees with Date.now", () => {
    expect(Math.abs(realtimeMs(libc()) - Date.now())).toBeLessThan(50);
  });
});
