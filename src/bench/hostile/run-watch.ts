/**
 * The honest side's health during `icon bench hostile`: each node's resident memory and its engine's
 * (dockerd), peaks per phase, and node processes that exited when nobody stopped them (crashes). A node
 * restarts before every hot and cold sample, so both follow whichever process runs the node now.
 */
import { answer } from "../../api/client.ts";
import type { MigrationLab } from "../../lab/lab.ts";
import { procMemory } from "./run-context.ts";
import type { Role } from "./run-spec.ts";

export interface MemoryPeaks {
  /** The node process's peak resident memory in the phase (sampled every 250 ms, and its VmHWM when that rose in the phase). */
  nodeBytes: number;
  /** Its own dockerd's, likewise. */
  dockerdBytes: number;
}

interface Watched {
  pid: number;
  /** VmHWM when the phase started (0 for a process started in it). */
  hwmAtStart: number;
}

export class MemoryWatch {
  private peaks = new Map<Role, MemoryPeaks>();
  private readonly watched = new Map<string, Watched>();
  private readonly dockerd = new Map<number, number>();
  private readonly timer: Timer;

  constructor(private readonly lab: MigrationLab, private readonly hosts: Record<Role, string>) {
    this.timer = setInterval(() => void this.sample(), 250);
  }

  /** Starts a phase: peaks from now on. */
  reset(): void {
    this.peaks = new Map();
    for (const w of this.watched.values()) w.hwmAtStart = procMemory(w.pid, "VmHWM");
  }

  private peak(role: Role, part: keyof MemoryPeaks, pid: number): void {
    const key = `${role} ${part}`;
    let w = this.watched.get(key);
    if (w?.pid !== pid) this.watched.set(key, (w = { pid, hwmAtStart: 0 }));
    const hwm = procMemory(pid, "VmHWM");
    const now = Math.max(procMemory(pid, "VmRSS"), hwm > w.hwmAtStart ? hwm : 0);
    const p = this.peaks.get(role) ?? { nodeBytes: 0, dockerdBytes: 0 };
    p[part] = Math.max(p[part], now);
    this.peaks.set(role, p);
  }

  private async sample(): Promise<void> {
    for (const role of ["origin", "edge"] as const) {
      const node = this.lab.nodes.nodes.get(this.hosts[role]);
      if (!node?.proc.pid || node.proc.exitCode !== null) continue;
      this.peak(role, "nodeBytes", node.proc.pid);
      // The node's dockerd is new with every start of the node: ask the node once per process.
      if (!this.dockerd.has(node.proc.pid)) {
        this.dockerd.set(node.proc.pid, 0);
        const pid = await answer(node.api.v1.status.$get()).then((s) => (s.engine.mode === "own" ? s.engine.pid : 0), () => undefined);
        if (pid === undefined) this.dockerd.delete(node.proc.pid);
        else this.dockerd.set(node.proc.pid, pid);
      }
      const d = this.dockerd.get(node.proc.pid);
      if (d) this.peak(role, "dockerdBytes", d);
    }
  }

  /** The peaks of the phase so far. */
  read(): Record<Role, MemoryPeaks> {
    const none = { nodeBytes: 0, dockerdBytes: 0 };
    return { origin: { ...(this.peaks.get("origin") ?? none) }, edge: { ...(this.peaks.get("edge") ?? none) } };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface Crash {
  host: string;
  phase: string;
  exitCode: number | null;
  /** The tail of its log. */
  log: string;
}

/** Finds node processes that exited on their own, records them, and starts the node again. */
export async function restartCrashed(lab: MigrationLab, hosts: string[], phase: string, crashes: Crash[]): Promise<void> {
  for (const host of hosts) {
    const n = lab.nodes.nodes.get(host);
    if (!n || n.proc.exitCode === null) continue;
    crashes.push({ host, phase, exitCode: n.proc.exitCode, log: await lab.logs(host, 20) });
    await lab.startNode(host);
  }
}
