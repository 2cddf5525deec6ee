/**
 * `icon bench hostile`: issue 12 measured. The thesis network plus an attacker host; the sample client
 * migrates direct, hot and cold (bench migrate's cold-small) in turn, N rounds without attacks (the
 * baseline), then N rounds more (and for as long as the attacker's first round of every attack lasts)
 * while the attacker runs every attack of src/bench/hostile at full rate against the origin and the
 * edge, and a relay in r4 reads their connections. Then one migration each with the relay flipping a bit and injecting a frame. The
 * result: per attack refused / contained / succeeded, and the honest side under attack against the
 * baseline: migrations succeeded, median times, node and engine memory, crashes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { answer } from "../../api/client.ts";
import { createDockerEngine } from "../../engine/docker-engine.ts";
import type { ClientResult } from "../../lab/client.ts";
import { APP_NAME, MigrationLab, THESIS_ROLES, type Rtts } from "../../lab/lab.ts";
import { PEER_PORT } from "../../lab/testbed-nodes.ts";
import { address, MAIN_DOCKER_SOCKET } from "../../testbed/index.ts";
import { VERSION } from "../../version.ts";
import { CASE_SPECS, type Case } from "../migrate/cases.ts";
import { summarize, type CaseSummary } from "../migrate/summary.ts";
import { keepFailedSample } from "./failed-sample.ts";
import type { OnPathMode } from "./peer-on-path.ts";
import type { AttackerEvent, AttackTally } from "./run-attacker.ts";
import type { OnPathReport } from "./run-on-path.ts";
import { HostileProcess } from "./run-processes.ts";
import { attackerSpec, buildProbes, claimAttackerBlock, prepareNodes, type EdgeAdmission } from "./run-setup.ts";
import { ATTACKER_HOST, ATTACKER_PREFIXES, ATTACKER_ROUTER, AttackerAddresses, hostileTopology, type Role } from "./run-spec.ts";
import { MemoryWatch, restartCrashed, type Crash, type MemoryPeaks } from "./run-watch.ts";

/** Thesis 4.1's direct, hot and cold, as bench migrate's cases of those names prepare them (cold: the small app). */
export const HOSTILE_CASES = ["direct", "hot", "cold-small"] as const satisfies readonly Case[];
export type HostileCase = (typeof HOSTILE_CASES)[number];
/** The cases' settings, for nodes that serve them all in turn (cold-small turns prefetch off). */
const NODE_ENV = Object.assign({}, ...HOSTILE_CASES.map((c) => CASE_SPECS[c].env ?? {})) as Record<string, string>;

export interface HostileBenchOptions {
  /** Samples per case and phase. */
  n: number;
  /** Testbed name. */
  name: string;
  edgeAdmission: EdgeAdmission;
  timeoutMs: number;
  /** Keep the nodes' and the attacker's logs here. */
  logsDir?: string;
  /** Only these attacks (by name). */
  only?: string[];
  progress: (event: Record<string, unknown> & { type: string }, human: string) => void;
}

export interface PhaseResult {
  rounds: number;
  ms: number;
  cases: Record<HostileCase, CaseSummary>;
  /** Failed samples the origin sent to one of the attacker's addresses (a forged announcement won). */
  diverted: Record<HostileCase, number>;
  memory: Record<Role, MemoryPeaks>;
  samples: Record<HostileCase, ClientResult[]>;
}

/** An attack's tally as the report shows it: the on-path relay's runs are on the path between the nodes. */
export type ReportedTally = Omit<AttackTally, "target"> & { target: Role | "path" };

export interface HostileBenchResult {
  version: string;
  startedAt: string;
  elapsedMs: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; kernel: string; bun: string; load: { start: number[]; end: number[] } };
  network: { topology: string; attacker: { host: string; router: string; prefixes: number } };
  options: { n: number; edgeAdmission: EdgeAdmission };
  rttMs: Rtts;
  floorMs: number;
  baseline: PhaseResult;
  attack: PhaseResult;
  crashes: Crash[];
  /** Rounds of every attack the attacker finished. */
  attackRounds: number;
  attacks: ReportedTally[];
}

const HOSTS = { origin: THESIS_ROLES.origin, edge: THESIS_ROLES.edge };
const round1 = (v: number) => Math.round(v * 10) / 10;

/** A migration counts when it ended on the edge: one a forged announcement diverted elsewhere did not. */
function onTheEdge(r: ClientResult, edge: string): ClientResult {
  return r.ok && r.edge && !r.edge.includes(`//${edge}:`) ? { ...r, ok: false, error: `migrated to ${r.edge}, not to the edge` } : r;
}

export async function runHostileBench(o: HostileBenchOptions): Promise<HostileBenchResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const load = { start: loadavg().map(round1), end: [] as number[] };
  const logsDir = o.logsDir ?? (await mkdtemp(join(tmpdir(), "icon-hostile-logs-")));
  /** Set once a sample failed: then the logs stay, wherever they are. */
  let failedLog: string | undefined;
  const say = o.progress;
  const lab = await MigrationLab.open({ name: o.name, topology: hostileTopology(), nodeEnv: NODE_ENV, logsDir, progress: (step, d) => say({ type: "setup", step, ...d }, `setting up: ${step}${d?.host ? ` (${d.host})` : ""}`) });
  const operator = await createDockerEngine(MAIN_DOCKER_SOCKET);
  let probes: Awaited<ReturnType<typeof buildProbes>> | undefined;
  const memory = new MemoryWatch(lab, HOSTS);
  const crashes: Crash[] = [];
  const edgeAddress = address(lab.st, HOSTS.edge);
  const atk = lab.st.hosts.find((h) => h.name === ATTACKER_HOST)!;
  // The attacker's networks, as a failure names an address in them.
  const attackerNets = new AttackerAddresses(atk.address, atk.clientBlock).networks();
  try {
    say({ type: "setup", step: "hostile" }, `setting up: edge admission ${o.edgeAdmission}, canaries, probe images`);
    claimAttackerBlock(lab.st);
    await prepareNodes(lab, o.edgeAdmission);
    probes = await buildProbes(operator);
    const rttMs = await lab.rtts(20);
    const floorMs = Math.round((3 * rttMs.clientOrigin + 3 * rttMs.clientEdge) * 100) / 100;
    say({ type: "network", rttMs, floorMs }, `RTT client-origin ${rttMs.clientOrigin.toFixed(2)} ms, client-edge ${rttMs.clientEdge.toFixed(2)} ms; F = ${floorMs.toFixed(1)} ms`);

    /** One sample of a case; a preparation that fails is that sample's failure. */
    const sample = async (c: HostileCase, k: number, phase: string): Promise<ClientResult> => {
      await restartCrashed(lab, Object.values(HOSTS), phase, crashes);
      try {
        await CASE_SPECS[c].prepare(lab, k);
      } catch (e) {
        return { ok: false, origin: lab.originUrl, phasesMs: {}, error: `preparing the ${c} sample failed: ${(e as Error).message}` };
      }
      const r = onTheEdge(await lab.client({ timeoutMs: o.timeoutMs }), edgeAddress);
      if (!r.ok) {
        if (!failedLog) say({ type: "logs", dir: logsDir }, `a sample failed: the nodes' logs are kept in ${logsDir} (failed-samples.log says what each failed one left)`);
        failedLog = join(logsDir, "failed-samples.log");
        await keepFailedSample(lab, failedLog, `${phase}: ${c} ${k}`, r).catch(() => {});
      }
      return r;
    };
    const phase = async (name: string, more: () => boolean = () => false): Promise<PhaseResult> => {
      const t0 = performance.now();
      memory.reset();
      const samples: Record<HostileCase, ClientResult[]> = { direct: [], hot: [], "cold-small": [] };
      let rounds = 0;
      for (; rounds < o.n || more(); rounds++)
        for (const c of HOSTILE_CASES) {
          const r = await sample(c, rounds + 1, name);
          samples[c].push(r);
          say({ type: "sample", phase: name, case: c, round: rounds + 1, ok: r.ok, totalMs: r.totalMs, error: r.error }, `${name}: ${c} ${rounds + 1}: ${r.ok ? `${r.totalMs} ms (${r.mode})` : `FAILED ${r.error}`}`);
        }
      await restartCrashed(lab, Object.values(HOSTS), name, crashes);
      const cases = Object.fromEntries(HOSTILE_CASES.map((c) => [c, summarize(samples[c], floorMs)])) as Record<HostileCase, CaseSummary>;
      const diverted = Object.fromEntries(HOSTILE_CASES.map((c) => [c, samples[c].filter((r) => !r.ok && attackerNets.some((n) => r.error?.includes(` ${n}`))).length])) as Record<HostileCase, number>;
      return { rounds, ms: Math.round(performance.now() - t0), cases, diverted, memory: memory.read(), samples };
    };

    for (const c of HOSTILE_CASES) {
      const dry = await sample(c, 0, "dry run");
      say({ type: "dry-run", case: c, ok: dry.ok, totalMs: dry.totalMs, error: dry.error }, `${c}: dry run ${dry.ok ? `${dry.totalMs} ms (discarded)` : `failed: ${dry.error}`}`);
    }
    const baseline = await phase("baseline");

    const dir = await mkdtemp(join(tmpdir(), "icon-hostile-spec-"));
    try {
      const specPath = join(dir, "attacker.json");
      await Bun.write(specPath, JSON.stringify(await attackerSpec(lab, { probes: probes.probes, edgeAdmission: o.edgeAdmission, only: o.only })));
      const pathSpec = join(dir, "on-path.json");
      const node = (host: string) => ({ address: address(lab.st, host), port: PEER_PORT });
      await Bun.write(pathSpec, JSON.stringify({ origin: node(HOSTS.origin), edge: node(HOSTS.edge), markers: ["replicate", APP_NAME, lab.appImage.split(":")[0]] }));
      const relay = (mode: OnPathMode) => new HostileProcess<{ type: string; report?: OnPathReport }>(lab.st, ATTACKER_ROUTER, ["--spec", pathSpec, "--on-path", mode], join(logsDir, "on-path.log"));

      let firstRound = false;
      const attacker = new HostileProcess<AttackerEvent>(lab.st, ATTACKER_HOST, ["--spec", specPath], join(logsDir, "attacker.log"), (e) => {
        if (e.type === "attack") say({ ...e, type: "attack" }, `attacker, round ${e.round}: ${e.attack} at the ${e.target}: ${e.outcomes} (${(e.ms / 1000).toFixed(1)} s)`);
        if (e.type === "round" && e.round === 1) firstRound = true;
      });
      const passive = relay("pass");
      await Promise.all([attacker.started(), passive.started()]);
      const attack = await phase("attack", () => !firstRound);
      say({ type: "stopping" }, "stopping the attacker (after the attack under way)");
      const events = await attacker.stop();
      const tallies: ReportedTally[] = events.flatMap((e) => (e.type === "tally" ? [e.tally] : []));
      tallies.push(onPathTally(await reportOf(passive)));
      for (const mode of ["flip", "inject"] as const) tallies.push(await tamper(lab, relay(mode), mode, o.timeoutMs));
      load.end = loadavg().map(round1);
      return {
        version: VERSION,
        startedAt,
        elapsedMs: Math.round(performance.now() - started),
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), bun: Bun.version, load },
        network: { topology: lab.topology.source, attacker: { host: ATTACKER_HOST, router: ATTACKER_ROUTER, prefixes: ATTACKER_PREFIXES } },
        options: { n: o.n, edgeAdmission: o.edgeAdmission },
        rttMs,
        floorMs,
        baseline,
        attack,
        crashes,
        attackRounds: events.filter((e) => e.type === "round").length,
        attacks: tallies.sort((a, b) => a.finding - b.finding),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    memory.stop();
    await probes?.remove();
    await lab.close();
    if (!o.logsDir && !failedLog) await rm(logsDir, { recursive: true, force: true });
  }
}

/** Waits (up to 60 s) until the origin again ranks the edge first for the client: the attacker's announcements are gone. */
async function edgeFirst(lab: MigrationLab): Promise<void> {
  const edgeId = (await answer(lab.nodes.get(HOSTS.edge).api.v1.status.$get())).nodeId;
  const client = address(lab.st, THESIS_ROLES.client);
  for (const end = Date.now() + 60_000; Date.now() < end; await Bun.sleep(1000)) {
    const c = await answer(lab.nodes.get(HOSTS.origin).api.v1.closest.$get({ query: { client, fresh: "1" } })).catch(() => undefined);
    if (c?.candidates[0]?.nodeId === edgeId) return;
  }
}

async function reportOf(p: HostileProcess<{ type: string; report?: OnPathReport }>): Promise<OnPathReport | undefined> {
  return (await p.stop()).find((e) => e.type === "report")?.report;
}

const blank = { runs: 1, refused: 0, contained: 0, succeeded: 0, errors: 0 };

/** The passive relay: refused when none of the words it looks for was readable in what it relayed. */
function onPathTally(r: OnPathReport | undefined): ReportedTally {
  const t: ReportedTally = { finding: 10, attack: "peer-on-path (pass: reads the nodes' connections)", target: "path", rate: "the whole attack phase", ...blank, detail: {} };
  if (!r?.connections) return { ...t, runs: 0, errors: 1, error: r ? "no connection between the nodes crossed the relay" : "the relay gave no report" };
  const outcome = r.readable.length ? "succeeded" : "refused";
  return { ...t, outcome, [outcome]: 1, detail: { connections: r.connections, relayedBytes: r.relayedBytes, readable: r.readable.join(", ") || "none" } };
}

/** A relay that tampers with the next frame after a quiet moment, then one migration through it. */
async function tamper(lab: MigrationLab, relay: HostileProcess<{ type: string; report?: OnPathReport }>, mode: OnPathMode, timeoutMs: number): Promise<ReportedTally> {
  const badFrames = async () => {
    let n = 0;
    for (const host of Object.values(HOSTS)) n += await answer(lab.nodes.get(host).api.v1.status.$get()).then((s) => s.peer.refused.badFrame, () => 0);
    return n;
  };
  const t: ReportedTally = { finding: 10, attack: `peer-on-path (${mode})`, target: "path", rate: "once, after the attack phase: it breaks the migration it meets", ...blank, detail: {} };
  try {
    await relay.started();
    // A new connection between the nodes, through the relay; quiet, so that it tampers with what comes next.
    await lab.restartEdge();
    await edgeFirst(lab);
    const before = await badFrames();
    await Bun.sleep(1000);
    const client = await lab.client({ timeoutMs });
    await Bun.sleep(1000);
    const r = await reportOf(relay);
    const refusedFrames = (await badFrames()) - before;
    if (!r?.tampered) return { ...t, runs: 0, errors: 1, error: `nothing crossed the relay to tamper with (${r?.connections ?? 0} connections)` };
    const outcome = refusedFrames > 0 ? "refused" : "succeeded";
    return { ...t, outcome, [outcome]: 1, detail: { tampered: r.tampered, framesRefusedByTheNodes: refusedFrames, migration: client.ok ? "switched" : client.stayed ? "the client stayed" : `failed: ${client.error}` } };
  } catch (e) {
    await relay.stop(10_000);
    return { ...t, runs: 0, errors: 1, error: (e as Error).message };
  }
}
