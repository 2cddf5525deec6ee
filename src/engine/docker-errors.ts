/**
 * Turns what dockerode throws (socket errors, HTTP errors with Docker's message) into IconErrors that
 * say what went wrong and how to fix it. The yard refines a few of them where it knows more (the image
 * or port involved).
 */
import { IconError } from "../errors.ts";

interface ModemError {
  code?: string;
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | null;
  message?: string;
}

export const DOCKER_FIX = 'Start the Docker engine (scripts/setup.sh starts dockerd as root), or point the node at its socket with the dockerSocket setting (ICON_DOCKER_SOCKET or "dockerSocket" in config.json).';

/** Docker's own message, without dockerode's "(HTTP code 404) no such container - " prefix. */
export function dockerMessage(e: unknown): string {
  const m = e as ModemError;
  const fromJson = m?.json && typeof m.json === "object" ? m.json.message : undefined;
  const text = fromJson ?? (typeof m?.json === "string" ? (m.json as string) : m?.message ?? String(e));
  return String(text).replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, "").trim();
}

export function isPortTaken(e: unknown): boolean {
  return /port is already allocated|address already in use/i.test(dockerMessage(e));
}

export function fromDocker(e: unknown, socket: string, what: string, unreachableFix = DOCKER_FIX): IconError {
  if (e instanceof IconError) return e;
  const m = e as ModemError;
  switch (m?.code) {
    case "ENOENT":
      return new IconError("DOCKER", `Docker is not reachable: no engine socket at ${socket}`, unreachableFix, { cause: e });
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "EPIPE":
      return new IconError("DOCKER", `Docker is not running: ${socket} refuses connections`, unreachableFix, { cause: e });
    case "EACCES":
      return new IconError("PERMISSION", `no permission to use the Docker socket ${socket}`, "Run the node as root, or as a member of the docker group.", { cause: e });
  }
  const msg = dockerMessage(e);
  const status = m?.statusCode;
  if (status === 404) return new IconError("NOT_FOUND", `${what}: ${msg}`, undefined, { cause: e });
  if (status === 409) return new IconError("CONFLICT", `${what}: ${msg}`, undefined, { cause: e });
  if (isPortTaken(e))
    return new IconError("CONFLICT", `${what}: ${msg}`, "Choose another --port, or stop whatever holds it (ss -ltnp shows it).", { cause: e });
  return new IconError("DOCKER", `${what}: ${msg}`, status ? "See the Docker engine's log for details." : unreachableFix, { cause: e });
}
