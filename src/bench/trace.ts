/**
 * `icon bench trace`: on the thesis testbed, how long a trace takes against the path's RTT (goal:
 * at most 1.1 × RTT + 5 ms when the destination answers), and how soon it gives up on a destination that
 * drops the probes (goal: at most 2 × the last answering hop's RTT), both on a first trace and on one that
 * knows the previous trace of that network (as a node's re-traces do). Each source host runs its traces in
 * a warm process of its own, inside its namespace, as a node would.
 */
import { loadavg } from "node:os";
import { selfCommand } from "../testbed/self.ts";
import { BASE_PORT, RETRY_PORT_OFFSET } from "../topology/trace/types.ts";
import type { RunnerReport } from "./trace-runner.ts";
import { openTestbed } from "../testbed/session.ts";

export interface TracePairReport {
  from: string;
  to: string;
  silent: boolean;
  report: RunnerReport;
  /** The goal for this pair, ms, and whether the median trace met it. */
  goalMs?: number;
  met?: boolean;
}

export interface TraceBenchReport {
  testbed: string;
  samples: number;
  loadavg: number[];
  pairs: TracePairReport[];
}

const PROBE_PORTS = `${BASE_PORT}:${BASE_PORT + 2 * RETRY_PORT_OFFSET - 1}`;

export async function benchTrace(o: { name: string; samples: number; keep?: boolean; progress: (human: string) => void }): Promise<TraceBenchReport> {
  const tb = await openTestbed({ name: o.name, keep: o.keep, progress: o.progress });
  const load0 = loadavg();
  const pairs: TracePairReport[] = [];
  try {
    const hosts = tb.status.hosts.map((h) => h.name);
    const run = async (from: string, to: string, prior: boolean): Promise<RunnerReport> =>
      JSON.parse(await tb.exec(from, selfCommand(["bench", "trace", "--runner", tb.host(to).address, "--samples", String(o.samples), ...(prior ? ["--prior"] : []), "--json"])));
    for (const silent of [false, true])
      for (const to of hosts) {
        // A silent destination: its namespace drops every probe (first and retry ports) without answering.
        const rule = ["iptables", "-w", "-I", "INPUT", "-p", "udp", "--dport", PROBE_PORTS, "-j", "DROP"];
        if (silent) await tb.exec(to, rule);
        try {
          for (const from of hosts.filter((h) => h !== to))
            for (const prior of silent ? [false, true] : [false]) {
              o.progress(`tracing ${from} → ${to}${silent ? ` (silent${prior ? ", knowing the last trace" : ""})` : ""}, ${o.samples} times`);
              pairs.push(judge({ from, to, silent, report: await run(from, to, prior) }));
            }
        } finally {
          if (silent) await tb.exec(to, ["iptables", "-w", "-D", ...rule.slice(3)]);
        }
      }
  } finally {
    await tb.close();
  }
  const load1 = loadavg();
  return { testbed: o.name, samples: o.samples, loadavg: load0.map((v, i) => Math.round(Math.max(v, load1[i]!) * 100) / 100), pairs };
}

function judge(p: TracePairReport): TracePairReport {
  const r = p.report;
  const goal = p.silent
    ? r.lastHopRttMs && 2 * r.lastHopRttMs.p50
    : r.destinationRttMs && 1.1 * r.destinationRttMs.p50 + 5;
  if (goal === undefined) return p;
  const goalMs = Math.round(goal * 100) / 100;
  return { ...p, goalMs, met: r.traceMs.p50 <= goalMs };
}
