import { describe, expect, test } from "bun:test";
import { FFIType } from "bun:ffi";
import { isIconError } from "../errors.ts";
import { lazyLibc, openLibc } from "./libc.ts";

const GETPID = { getpid: { args: [], returns: FFIType.i32 } } as const;

describe("libc", () => {
  test("a missing library is UNSUPPORTED, names the library and carries the caller's fix", () => {
    let caught: unknown;
    try {
      openLibc(GETPID, "the test", "Install a C library.", ["libicon-does-not-exist.so.9"]);
    } catch (e) {
      caught = e;
    }
    expect(isIconError(caught, "UNSUPPORTED")).toBe(true);
    expect((caught as Error).message).toContain("libicon-does-not-exist.so.9");
    expect((caught as { fix?: string }).fix).toBe("Install a C library.");
  });
  test("a missing symbol is UNSUPPORTED too, and a lazy loader throws it again on every call", () => {
    const load = lazyLibc({ icon_no_such_function: { args: [], returns: FFIType.i32 } }, "the test", "none");
    expect(load).toThrow(/the test cannot load the C library functions.*icon_no_such_function/);
    expect(load).toThrow(/icon_no_such_function/);
  });
  test("symbols that exist are callable", () => {
    expect(lazyLibc(GETPID, "the test", "none")().getpid()).toBe(process.pid);
  });
});
