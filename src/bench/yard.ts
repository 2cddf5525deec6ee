/**
 * `icon bench yard`: what the orchestrator adds to Docker when it starts an ICON (goal:
 * overhead <= 30% over bare Docker). Measured with tinybench on the real engine, in one run:
 *
 * - cold: yard.run → RUNNING (create, start, runtime ready) beside a bare create+start of the same
 *   container spec (no yard, nobody on its socket);
 * - hot (the thesis's hot case): yard.start of a stopped ICON → RUNNING beside a bare start of a
 *   stopped copy.
 *
 * Bare Docker is reported twice: when its start call returns, and when the server inside first answers
 * HTTP. The ICON's server is polled the same way during its own runs (same method, same load), which
 * gives the like-for-like overhead.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Bench } from "tinybench";
import type { Config } from "../config/schema.ts";
import { IconError } from "../errors.ts";
import { silentLogger } from "../log.ts";
import { quantile } from "../util/stats.ts";
// @ts-expect-error -- text import (Bun import attribute): the example ICON, embedded for the bench image
import helloServer from "../../examples/hello-icon/server.ts" with { type: "text" };
// @ts-expect-error -- text import (Bun import attribute): the example ICON's Dockerfile (FROM $RUNTIME)
import helloDockerfile from "../../examples/hello-icon/Dockerfile" with { type: "text" };
import { containerSpec, LABELS } from "../yard/container-spec.ts";
import { DEFAULT_USER } from "../yard/user.ts";
import { publishedNetwork } from "../engine/icon-network.ts";
import type { ContainerEngine } from "../engine/container-engine.ts";
import { portFree } from "../yard/ports.ts";
import { buildRuntimeImage, RUNTIME_REPO, runtimeTag } from "../yard/runtime-image.ts";
import { tarStream } from "../util/tar.ts";
import { Yard } from "../yard/yard.ts";

export interface Figures {
  n: number;
  p50: number;
  p75: number;
  min: number;
  max: number;
  mad: number;
}
export interface CaseReport {
  iconToRunning: Figures;
  /** The ICON's server first answering HTTP, polled exactly as the bare container's is. */
  iconToHttp: Figures;
  bareStartCall: Figures;
  bareToHttp: Figures;
  /** median(icon → RUNNING) / median(bare start call) - 1 */
  overheadVsStartCall: number;
  /** median(icon → HTTP) / median(bare → HTTP) - 1: the like-for-like figure */
  overheadVsHttp: number;
}
export interface YardBenchReport {
  iterations: number;
  image: string;
  host: { cpus: number; loadavgBefore: number[]; loadavgAfter: number[] };
  cold: CaseReport;
  hot: CaseReport;
  goal: string;
  met: boolean;
}

type Progress = (e: { type: string; [k: string]: unknown }) => void;
const r3 = (v: number) => Math.round(v * 1000) / 1000;
/** Median, p75, range and median absolute deviation of samples pooled from the rounds. */
function spreadOf(v: number[]): Figures {
  const s = [...v].sort((a, b) => a - b);
  const med = quantile(s, 0.5);
  const mad = quantile(s.map((x) => Math.abs(x - med)).sort((a, b) => a - b), 0.5);
  return { n: s.length, p50: r3(med), p75: r3(quantile(s, 0.75)), min: r3(s[0] ?? NaN), max: r3(s.at(-1) ?? NaN), mad: r3(mad) };
}

/** The example ICON on this binary's icon-runtime image, built when missing (runtime image included). */
export async function benchImage(engine: ContainerEngine, progress?: Progress): Promise<string> {
  const tag = runtimeTag();
  const image = `icon-bench-hello:${tag}`;
  if (await engine.inspectImage(image)) return image;
  if (!(await engine.inspectImage(`${RUNTIME_REPO}:${tag}`))) {
    progress?.({ type: "building", image: `${RUNTIME_REPO}:${tag}` });
    await buildRuntimeImage(engine);
  }
  progress?.({ type: "building", image });
  const ctx = tarStream([
    { path: "Dockerfile", type: "file", mode: 0o644, data: helloDockerfile as string },
    { path: "server.ts", type: "file", mode: 0o644, data: helloServer as string },
  ]);
  await engine.buildImage(ctx, { tags: [image], buildArgs: { RUNTIME: `${RUNTIME_REPO}:${tag}` } });
  return image;
}

/**
 * Polls the server through the published port until it answers. Start only once Docker's start call
 * returned: a connection tried before the container's network is up leaves the host's ARP entry for it
 * INCOMPLETE (seen with `ip neigh`), and every packet then waits for the next ARP probe about 1 s later
 * (measured here: first answer ~1150 ms after the start call when polled from it, ~40 ms after the call
 * returned when polled from then).
 */
async function untilHttp(port: number): Promise<void> {
  const end = performance.now() + 30_000;
  for (;;) {
    try {
      // Short attempts: while Docker sets the port up, a SYN can be dropped, and the kernel would retry
      // it only after 1 s; a new attempt every ~25 ms keeps the resolution fine.
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(25) });
      if (res.ok) return void (await res.text());
    } catch {}
    if (performance.now() > end) throw new IconError("TIMEOUT", `the bare container never answered on port ${port}`);
    await Bun.sleep(2);
  }
}

export async function benchYard(engine: ContainerEngine, config: Config, opts: { iterations: number; progress?: Progress }): Promise<YardBenchReport> {
  const image = await benchImage(engine, opts.progress);
  const dataDir = await mkdtemp(join(tmpdir(), "icon-bench-yard-"));
  const nodeId = Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString("hex");
  const yard = new Yard({
    config: { ...config, dataDir, listen: "127.0.0.1", networkContainer: "", iconReadySec: 30 },
    nodeId, log: silentLogger, engine, address: () => "127.0.0.1",
  });
  const limits = { memoryBytes: 256 * 2 ** 20, cpus: Math.min(1, cpus().length), pids: 256 };
  let nextPort = 0;
  const freshPort = async () => {
    for (let p = Math.max(nextPort, 39000); p < 40000; p++) if (await portFree(p, "127.0.0.1")) return (nextPort = p + 1), p;
    throw new IconError("CONFLICT", "no free port in 39000-39999 for the bench");
  };
  /** A container spec like the yard's, for a container made without the yard (its socket dir is empty). */
  const bareSpec = async (name: string) => {
    const port = await freshPort();
    const rec = { name: `bare-${name}`, image, role: "root" as const, port, env: {}, user: DEFAULT_USER, limits, createdAt: "", children: [], policy: {}, lastState: "STOPPED" as const };
    const socketDir = join(dataDir, "bare", name);
    await Bun.write(join(socketDir, ".keep"), "");
    return { spec: containerSpec(rec, { nodeId, socketDir, network: publishedNetwork(engine, { networkContainer: "", hostIp: "127.0.0.1" }).spec(port, rec.name) }), port };
  };
  const startCalls = { cold: [] as number[], hot: [] as number[] };
  const iconHttp = { cold: [] as number[], hot: [] as number[] };
  /** Runs an ICON operation with the same HTTP polling the bare side gets (same load, same method). */
  const timed = async (which: "cold" | "hot", name: string, p: number, op: () => Promise<unknown>) => {
    const t0 = performance.now();
    // Polling starts when the yard's start call returned (WAITING_READY), as on the bare side.
    let http: Promise<number> | undefined;
    const off = yard.events.on("state", (e) => {
      if (e.name === name && e.state === "WAITING_READY") http = untilHttp(p).then(() => performance.now() - t0);
    });
    try {
      await op();
    } finally {
      off();
    }
    const running = performance.now() - t0;
    iconHttp[which].push(await (http ?? untilHttp(p).then(() => performance.now() - t0)));
    return { overriddenDuration: running };
  };
  const samples: Record<string, number[]> = {};
  let i = 0;
  let port = 0;
  let next: Awaited<ReturnType<typeof bareSpec>> | undefined;
  let coldId = "";
  let hotBare: { id: string; port: number } | undefined;
  let hotPort = 0;

  /** One round: every case a few times, so that a change in the host's load hits all cases alike. */
  const round = (iterations: number, warmup: boolean) => {
    const bench = new Bench({ iterations, time: 0, warmupIterations: warmup ? 1 : 0, warmupTime: 0, retainSamples: true });
    // Ports and directories are prepared outside the timed part, alike for both sides.
    // async: true everywhere: otherwise tinybench calls a non-`async` function once, untimed and without
    // its hooks, to find out whether it returns a promise (that started a stray ICON per round).
    bench.add("cold icon", () => timed("cold", `cold${i}`, port, () => yard.run({ image, name: `cold${i}`, port })), {
      async: true,
      beforeEach: async () => void ((port = await freshPort()), i++),
      afterEach: async () => void (await yard.remove(`cold${i}`, { force: true })),
    });
    bench.add("cold bare", async () => {
      const t0 = performance.now();
      coldId = await engine.createContainer(next!.spec);
      await engine.startContainer(coldId);
      startCalls.cold.push(performance.now() - t0);
      await untilHttp(next!.port);
    }, {
      async: true,
      beforeEach: async () => void (next = await bareSpec(`cold${++i}`)),
      afterEach: async () => engine.removeContainer(coldId, { force: true }),
    });
    bench.add("hot icon", () => timed("hot", "hot", hotPort, () => yard.start("hot")), {
      async: true,
      beforeEach: async () => void (await yard.stop("hot")),
    });
    bench.add("hot bare", async () => {
      const t0 = performance.now();
      await engine.startContainer(hotBare!.id);
      startCalls.hot.push(performance.now() - t0);
      await untilHttp(hotBare!.port);
    }, { async: true, beforeEach: async () => engine.stopContainer(hotBare!.id, 5) });
    return bench;
  };

  const loadavgBefore = loadavg().map(r3);
  const rounds = Math.min(opts.iterations, 5);
  try {
    hotPort = await freshPort();
    await yard.run({ image, name: "hot", port: hotPort });
    const b = await bareSpec("hot");
    hotBare = { id: await engine.createContainer(b.spec), port: b.port };
    for (let r = 0; r < rounds; r++) {
      const n = Math.floor(opts.iterations / rounds) + (r < opts.iterations % rounds ? 1 : 0);
      const bench = round(n, r === 0);
      await bench.run();
      for (const t of bench.tasks) {
        if (t.result.state !== "completed") throw new IconError("FAILED", `bench task "${t.name}" ${t.result.state}${"error" in t.result ? `: ${t.result.error.message}` : ""}`);
        (samples[t.name] ??= []).push(...(t.result.latency.samples ?? []));
      }
      opts.progress?.({ type: "round", round: r + 1, of: rounds });
    }
  } finally {
    await yard.close().catch(() => {});
    for (const c of await engine.listContainers({ [LABELS.node]: nodeId })) await engine.removeContainer(c.id, { force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
  const kase = (which: "cold" | "hot"): CaseReport => {
    const icon = spreadOf(samples[`${which} icon`]!);
    const http = spreadOf(samples[`${which} bare`]!);
    // The warm-up iteration's start call is left out, as tinybench leaves out its timing.
    const call = spreadOf(startCalls[which].slice(-opts.iterations));
    const iconToHttp = spreadOf(iconHttp[which].slice(-opts.iterations));
    return { iconToRunning: icon, iconToHttp, bareStartCall: call, bareToHttp: http, overheadVsStartCall: r3(icon.p50 / call.p50 - 1), overheadVsHttp: r3(iconToHttp.p50 / http.p50 - 1) };
  };
  const cold = kase("cold");
  const hot = kase("hot");
  return {
    iterations: opts.iterations,
    image,
    host: { cpus: cpus().length, loadavgBefore, loadavgAfter: loadavg().map(r3) },
    cold,
    hot,
    goal: "median overhead over bare Docker (start + server answering) <= 30% in both cases",
    met: cold.overheadVsHttp <= 0.3 && hot.overheadVsHttp <= 0.3,
  };
}
