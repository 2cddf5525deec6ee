/**
 * `icon bench testbed-engines`: what `--engines` costs on the thesis topology, against plain
 * `--docker`: time of `up` and `down`, each engine's time from spawn to its first answered ping,
 * its memory once idle (dockerd and its containerd; RSS counts the binaries' shared pages in full, PSS
 * shares them out), and the time to seed an engine with an image (copyImage).
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { PAUSE_IMAGE } from "../testbed/names.ts";
import { down, up, type Progress, type TestbedEvent } from "../testbed/lifecycle.ts";
import { thesisTopology } from "../testbed/builtin.ts";
import { readState } from "../testbed/state.ts";
import { copyImage } from "../testbed/docker.ts";
import { dockerdNodes } from "../testbed/dockerd/fleet.ts";
import { dockerdProcesses } from "../engine/daemon/processes.ts";
import { quantile } from "../util/stats.ts";

export interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export interface EngineMemory {
  host: string;
  /** dockerd and its containerd, kB. */
  dockerdRssKb: number;
  containerdRssKb: number;
  /** Proportional set size of both together, kB: what the engine adds once pages shared with the other engines are shared out. */
  pssKb: number;
}

export interface EnginesBenchResult {
  testbed: string;
  cores: number;
  loadBefore: number[];
  loadAfter: number[];
  upDockerMs: Spread;
  downDockerMs: Spread;
  upEnginesMs: Spread;
  downEnginesMs: Spread;
  /** Spawn to first answered ping, every engine of every round. */
  engineStartMs: Spread;
  memory: EngineMemory[];
  copies: { ref: string; bytes: number; ms: Spread }[];
}

export function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = quantile(s, 0.5);
  const r = (x: number) => Math.round(x);
  return { median: r(mid), min: r(s[0] ?? NaN), max: r(s[s.length - 1] ?? NaN), samples: xs.map(r) };
}

function statusKb(pid: number, field: string, file = "status"): number {
  try {
    return Number(readFileSync(`/proc/${pid}/${file}`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

export interface EnginesBenchOptions {
  name: string;
  rounds: number;
  /** Images to copy from the main engine into IEP1's engine each round (the pause image always). */
  images: string[];
  progress: Progress;
  note: (msg: string) => void;
}

export async function benchEngines(o: EnginesBenchOptions): Promise<EnginesBenchResult> {
  const topology = thesisTopology();
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const t = { upDocker: [] as number[], downDocker: [] as number[], upEngines: [] as number[], downEngines: [] as number[], start: [] as number[] };
  const refs = [PAUSE_IMAGE, ...o.images];
  const copies = new Map<string, { bytes: number; ms: number[] }>(refs.map((r) => [r, { bytes: 0, ms: [] }]));
  let memory: EngineMemory[] = [];
  await down(o.name);
  for (let round = 1; round <= o.rounds; round++) {
    o.note(`round ${round} of ${o.rounds}: up --docker, down, up --engines, copy, down`);
    t.upDocker.push((await timed(() => up({ name: o.name, topology, docker: true })))[1]);
    t.downDocker.push((await timed(() => down(o.name)))[1]);
    const events: TestbedEvent[] = [];
    const [st, upMs] = await timed(() => up({ name: o.name, topology, docker: true, engines: true, progress: (e, h) => (events.push(e), o.progress(e, h)) }));
    t.upEngines.push(upMs);
    for (const e of events) if (e.phase === "engine") t.start.push(e.ms);
    try {
      await Bun.sleep(1000); // idle engines: past their start-up allocations
      const state = readState(o.name)!;
      memory = dockerdNodes(state).map((n) => {
        const daemon = state.enginePids![n.name]!;
        const others = dockerdProcesses(n.engine).filter((p) => p !== daemon);
        const containerd = others.reduce((kb, p) => kb + statusKb(p, "VmRSS"), 0);
        const pss = [daemon, ...others].reduce((kb, p) => kb + statusKb(p, "Pss", "smaps_rollup"), 0);
        return { host: n.name, dockerdRssKb: statusKb(daemon, "VmRSS"), containerdRssKb: containerd, pssKb: pss };
      });
      const to = st.hosts.find((h) => h.name === "IEP1")!.dockerSocket!;
      for (const ref of refs) {
        const r = await copyImage(ref, { to });
        copies.get(ref)!.bytes = r.bytes;
        copies.get(ref)!.ms.push(r.ms);
      }
    } finally {
      t.downEngines.push((await timed(() => down(o.name)))[1]);
    }
  }
  return {
    testbed: o.name, cores: cpus().length, loadBefore, loadAfter: loadavg().map((x) => Math.round(x * 100) / 100),
    upDockerMs: spread(t.upDocker), downDockerMs: spread(t.downDocker), upEnginesMs: spread(t.upEngines), downEnginesMs: spread(t.downEngines),
    engineStartMs: spread(t.start), memory, copies: refs.map((ref) => ({ ref, bytes: copies.get(ref)!.bytes, ms: spread(copies.get(ref)!.ms) })),
  };
}
