/**
 * The few error classes the whole product uses. Every error a user can meet carries a stable `code`
 * and, where there is one, a `fix` that says what to do about it. The local API answers
 * `{ error, code, fix }`; the CLI maps the code to an exit status and prints the fix.
 */

export type ErrorCode =
  | "USAGE" // bad command line
  | "CONFIG" // bad configuration value
  | "NOT_RUNNING" // no node answers on the local API socket
  | "NOT_FOUND" // key, ICON, image, host... does not exist
  | "CONFLICT" // already exists / already running / port taken
  | "TIMEOUT"
  | "UNREACHABLE" // a peer or host did not answer
  | "INVALID_INPUT" // malformed request, datagram, JSON
  | "TOO_LARGE"
  | "UNAUTHORIZED" // bad signature, replay
  | "NOT_ADMITTED" // this node does not run ICONs of that owner (admission allowlist)
  | "QUOTA" // a per-owner, per-peer or node-wide quota would be exceeded
  | "RATE_LIMITED" // a source over its rate or its share of a table: wait and retry
  | "DOCKER" // Docker daemon missing or failing
  | "PERMISSION" // needs root / capability
  | "UNSUPPORTED" // kernel or platform lacks a feature
  | "FAILED" // an operation failed for a reason given in the message
  | "INTERNAL";

/** Exit status per code: scripts can tell "not found" (1) from "usage" (2) from "node down" (3). */
export const EXIT_CODES: Record<ErrorCode, number> = {
  NOT_FOUND: 1,
  USAGE: 2,
  CONFIG: 2,
  NOT_RUNNING: 3,
  CONFLICT: 4,
  TIMEOUT: 5,
  UNREACHABLE: 5,
  INVALID_INPUT: 6,
  TOO_LARGE: 6,
  QUOTA: 11,
  UNAUTHORIZED: 7,
  NOT_ADMITTED: 7,
  RATE_LIMITED: 5,
  DOCKER: 8,
  PERMISSION: 9,
  UNSUPPORTED: 9,
  FAILED: 10,
  INTERNAL: 70,
};

/** HTTP status per code, for the local API and the peer protocol. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  USAGE: 400,
  CONFIG: 400,
  NOT_RUNNING: 503,
  CONFLICT: 409,
  TIMEOUT: 504,
  UNREACHABLE: 502,
  INVALID_INPUT: 400,
  TOO_LARGE: 413,
  QUOTA: 429,
  UNAUTHORIZED: 401,
  NOT_ADMITTED: 403,
  RATE_LIMITED: 429,
  DOCKER: 503,
  PERMISSION: 403,
  UNSUPPORTED: 501,
  FAILED: 500,
  INTERNAL: 500,
};

export class IconError extends Error {
  override readonly name = "IconError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** What the user can do about it, in one sentence. */
    readonly fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): { error: string; code: ErrorCode; fix?: string } {
    return this.fix ? { error: this.message, code: this.code, fix: this.fix } : { error: this.message, code: this.code };
  }
}

export function isIconError(e: unknown, code?: ErrorCode): e is IconError {
  return e instanceof IconError && (code === undefined || e.code === code);
}

/** Wraps anything thrown into an IconError, keeping IconErrors as they are. */
export function toIconError(e: unknown): IconError {
  if (e instanceof IconError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new IconError("INTERNAL", message, undefined, { cause: e });
}

/** Rebuilds an IconError from an API answer body `{ error, code, fix }`. */
export function fromErrorBody(body: unknown, fallback: string): IconError {
  if (body && typeof body === "object" && "error" in body) {
    const b = body as { error: unknown; code?: unknown; fix?: unknown };
    const code = typeof b.code === "string" && b.code in EXIT_CODES ? (b.code as ErrorCode) : "INTERNAL";
    return new IconError(code, String(b.error), typeof b.fix === "string" ? b.fix : undefined);
  }
  return new IconError("INTERNAL", fallback);
}
