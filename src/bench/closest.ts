/**
 * `icon bench closest`: on the thesis testbed with real nodes on IEP1 and IEP2, how long IEP1 takes to
 * answer "which nodes are closest to UD?" (goals: warm ≤ 1 ms; cold ≤ RTT(client) + RTT(key
 * holder) + 10 ms), and how good the answer is (the chosen node's estimated RTT against the RTT it
 * measures itself). Cold asks bypass the node's caches (`fresh`); warm asks are answered from them.
 * Cold asks still know the previous trace of the client's network (as a node whose cache entry expired
 * does), so every lookup starts at once; the very first ask, which does not, is reported on its own.
 * The node's own elapsedMs is the figure; the API round trip over the Unix socket is shown beside it.
 */
import { loadavg } from "node:os";
import { Bench } from "tinybench";
import { answer } from "../api/client.ts";
import type { ClosestAnswer } from "../topology/finder.ts";
import type { NetworkSpec } from "../testbed/topology.ts";
import { spread, type Spread } from "../util/stats.ts";
import { openTestbed } from "../testbed/session.ts";
import { TestbedNodes } from "../lab/testbed-nodes.ts";
import { smallestRtt } from "./closest-network.ts";

export interface ClosestBenchReport {
  testbed: string;
  samples: number;
  loadavg: number[];
  client: string;
  /** IEP1's RTT to UD, from its traces (the client part of the cold goal). */
  clientRttMs: Spread;
  /**
   * IEP1's RTT to the node its DHT lookups ask (IEP2): with fewer than k = 20 nodes every announced router
   * is in IEP1's own store, but a router nobody announced is looked up remotely before it counts as empty.
   */
  keyHolderRttMs: number;
  /** The very first ask: nothing cached and no earlier trace of the client's network to start lookups from. */
  firstContactMs: number;
  cold: { elapsedMs: Spread; apiMs: ApiLatency; goalMs: number; met: boolean };
  warm: { elapsedMs: Spread; apiMs: ApiLatency; goalMs: number; met: boolean; cachedAll: boolean };
  accuracy: { chosen?: string; expected: string; estimatedMs?: number; measuredMs: number; errorPct?: number };
}

/** `topology`: the thesis network (default), or a variant of it (`--numbering per-link`). */
export async function benchClosest(o: { name: string; samples: number; topology?: NetworkSpec; keep?: boolean; progress: (human: string) => void }): Promise<ClosestBenchReport> {
  const tb = await openTestbed({ name: o.name, topology: o.topology, keep: o.keep, progress: o.progress });
  const nodes = new TestbedNodes(tb.status);
  const load0 = loadavg();
  try {
    o.progress("starting nodes on IEP1 and IEP2");
    // The closest() bench runs no ICON: the nodes need no engine of their own.
    const env = { ICON_ENGINE: "external" };
    await nodes.start("IEP1", { env });
    await nodes.start("IEP2", { bootstrap: "IEP1", env });
    o.progress("waiting until IEP2 has traced IEP1 and announced the routers on the way");
    await nodes.warmedUp("IEP2", 6);
    const iep1 = nodes.get("IEP1").api;
    const client = tb.host("UD").address;
    const ask = (fresh: boolean) => answer(iep1.v1.closest.$get({ query: fresh ? { client, fresh: "1" } : { client } }));
    const first = await ask(false); // first contact: nothing cached, no earlier trace of UD's network

    const runs = { cold: [] as ClosestAnswer[], warm: [] as ClosestAnswer[] };
    const bench = new Bench({ iterations: o.samples, time: 0, warmupIterations: 1, warmupTime: 0 });
    bench.add("cold", async () => void runs.cold.push(await ask(true)), { afterEach: () => Bun.sleep(20) });
    bench.add("warm", async () => void runs.warm.push(await ask(false)));
    o.progress(`asking IEP1 for the nodes closest to UD, ${o.samples} times cold and warm`);
    await bench.run();
    const api = (name: string) => {
      const r = bench.getTask(name)!.result;
      if (r.state !== "completed") throw new Error(`the ${name} benchmark ${r.state}`);
      return r.latency;
    };
    const cold = runs.cold.slice(-api("cold").samplesCount);
    const warm = runs.warm.slice(-api("warm").samplesCount);
    const clientRtt = spread(cold.map((a) => a.selfRttMs ?? NaN));

    o.progress("measuring IEP2's own RTT to UD, and IEP1's to IEP2 (the other key holder)");
    const measured = await smallestRtt(tb, "IEP2", client);
    const keyHolderRtt = await smallestRtt(tb, "IEP1", nodes.get("IEP2").address);
    const chosen = warm.at(-1)?.candidates[0];
    const expected = nodes.get("IEP2").address;
    // A router nobody announced is in no local store: its lookup asks the other node, the key holder.
    const coldGoal = clientRtt.p50 + keyHolderRtt + 10;
    const coldElapsed = spread(cold.map((a) => a.elapsedMs));
    const warmElapsed = spread(warm.map((a) => a.elapsedMs));
    return {
      testbed: o.name,
      samples: o.samples,
      loadavg: load0.map((v, i) => Math.round(Math.max(v, loadavg()[i]!) * 100) / 100),
      client,
      clientRttMs: clientRtt,
      keyHolderRttMs: round(keyHolderRtt),
      firstContactMs: first.elapsedMs,
      cold: { elapsedMs: coldElapsed, apiMs: latencySpread(api("cold")), goalMs: round(coldGoal), met: coldElapsed.p50 <= coldGoal },
      warm: { elapsedMs: warmElapsed, apiMs: latencySpread(api("warm")), goalMs: 1, met: warmElapsed.p50 <= 1, cachedAll: warm.every((a) => a.cached) },
      accuracy: {
        ...(chosen ? { chosen: chosen.address, estimatedMs: chosen.estimatedRttMs, errorPct: round((100 * (chosen.estimatedRttMs - measured)) / measured) } : {}),
        expected,
        measuredMs: measured,
      },
    };
  } finally {
    await nodes.stopAll();
    await tb.close();
  }
}

export interface ApiLatency {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

/** tinybench's timing of the whole API call (HTTP over the node's Unix socket included). */
function latencySpread(l: { p50: number; min: number; max: number; samplesCount: number; p99: number }): ApiLatency {
  return { n: l.samplesCount, p50: round(l.p50), p99: round(l.p99), min: round(l.min), max: round(l.max) };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
