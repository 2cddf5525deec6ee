/**
 * Ports for ICONs. A root ICON keeps the fixed port its operator gave it; replicas get one from the
 * configured range (portRange). Either way the port is pinned in the record and reused at every
 * restart: Docker's automatic ports change at every start (DESIGN.md), which would break the address a
 * parent has handed to its clients. In the testbed's Docker mode ICONs share the IEP's namespace, so
 * the node hands ports out there too.
 */
import { createServer } from "node:net";
import { IconError } from "../errors.ts";

export interface PortRange {
  first: number;
  last: number;
}

export function parseRange(s: string): PortRange {
  const [a, b] = s.split("-").map(Number);
  if (!Number.isInteger(a) || !Number.isInteger(b) || a! < 1 || b! > 65535 || a! > b!)
    throw new IconError("CONFIG", `portRange "${s}" is not FIRST-LAST`, "Set portRange to e.g. 20000-20999.");
  return { first: a!, last: b! };
}

/** True when nothing listens on host:port (TCP); the node runs in the namespace the ICONs use. */
export function portFree(port: number, host = "0.0.0.0"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export class PortAllocator {
  constructor(
    private readonly range: PortRange,
    /** Ports already pinned by this node's ICONs (running or stopped). */
    private readonly pinned: () => Set<number>,
    private readonly free: (port: number) => Promise<boolean> = (p) => portFree(p),
  ) {}

  /** Checks an operator's fixed port: not pinned by another ICON, and nothing else listens there. */
  async claim(port: number): Promise<number> {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new IconError("INVALID_INPUT", `port ${port} is not a TCP port`, "Ask for a port between 1 and 65535.");
    if (this.pinned().has(port))
      throw new IconError("CONFLICT", `port ${port} is taken by another ICON on this node`, 'Choose another --port ("icon ps --all" lists the pinned ports).');
    if (!(await this.free(port)))
      throw new IconError("CONFLICT", `port ${port} is taken: something on this host already listens on it`, "Choose another --port, or stop whatever holds it (ss -ltnp shows it).");
    return port;
  }

  /** The first port of the range that is neither pinned nor in use. */
  async allocate(): Promise<number> {
    const pinned = this.pinned();
    for (let p = this.range.first; p <= this.range.last; p++) {
      if (pinned.has(p)) continue;
      if (await this.free(p)) return p;
    }
    throw new IconError("CONFLICT", `no free port left in portRange ${this.range.first}-${this.range.last}`,
      'Remove ICONs you no longer need ("icon rm"), or widen portRange.');
  }
}
