/**
 * Loading the C library through `bun:ffi`, for the two parts that need calls Bun does not offer: the
 * traceroute (IP_RECVERR error queues) and the testbed's delay process (nfnetlink_queue, setns).
 * Each declares the symbols it needs; this module opens them once, lazily, and turns a missing
 * library or symbol into an UNSUPPORTED error with a fix instead of a crash at import time.
 */
import { dlopen, read, type FFIFunction, type Library, type Pointer } from "bun:ffi";
import { IconError } from "../errors.ts";

// Linux ABI numbers both users share, identical on x86-64 and arm64 (socket(7), poll(2), errno(3)).
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const MSG_DONTWAIT = 0x40;
export const POLLIN = 0x1;
export const EAGAIN = 11;
export const EINTR = 4;

/** Candidate names of the C library, most specific first. */
export const LIBC_NAMES = process.platform === "linux" ? ["libc.so.6", "libc.so"] : [];

export type Symbols<S extends Record<string, FFIFunction>> = Library<S>["symbols"];

/**
 * Opens the first library of `names` that has every symbol; an UNSUPPORTED error names each failure.
 * `user` says who needs the calls, `fix` what to do when they are missing.
 */
export function openLibc<S extends Record<string, FFIFunction>>(
  symbols: S, user: string, fix: string, names: string[] = LIBC_NAMES,
): Symbols<S> {
  if (process.platform !== "linux")
    throw new IconError("UNSUPPORTED", `${user} needs Linux; this is ${process.platform}`,
      "Run icon on Linux (any distribution with glibc).");
  const errors: string[] = [];
  for (const name of names) {
    try {
      return dlopen(name, symbols).symbols;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new IconError("UNSUPPORTED", `${user} cannot load the C library functions it needs (${errors.join("; ")})`, fix);
}

/** `openLibc` on first use; later calls return the same symbols, or throw the same error again. */
export function lazyLibc<S extends Record<string, FFIFunction>>(symbols: S, user: string, fix: string): () => Symbols<S> {
  let loaded: Symbols<S> | undefined;
  let failure: unknown;
  return () => {
    if (loaded) return loaded;
    if (failure) throw failure;
    try {
      return (loaded = openLibc(symbols, user, fix));
    } catch (e) {
      throw (failure = e);
    }
  };
}

/** errno of the last failed call on this thread. */
export function errno(c: { __errno_location: () => unknown }): number {
  return read.i32(c.__errno_location() as Pointer, 0);
}
