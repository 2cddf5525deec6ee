/**
 * The per-host engines of one testbed as a group, for `up`, `down` and `status`: start them all in
 * parallel (each PID written to the state file as soon as it exists), tell whether they are all
 * alive and answering, and remove them all.
 */
import type { Progress } from "../lifecycle.ts";
import type { NodePlan } from "../plan.ts";
import type { TestbedState } from "../state.ts";
import { engineAnswers } from "../../engine/container-engine.ts";
import { engineAt } from "../docker.ts";
import { dockerdLeftovers, removeDockerd, startDockerd, type DockerdRemoval } from "./daemon.ts";
import type { DockerdPlan } from "../../engine/daemon/plan.ts";
import { daemonPid } from "../../engine/daemon/processes.ts";

type DockerdNode = NodePlan & { engine: DockerdPlan };

export const dockerdNodes = (s: Pick<TestbedState, "plan">): DockerdNode[] => s.plan.nodes.filter((n): n is DockerdNode => !!n.engine);

/** Directories of the planned engines that exist already (not made by a testbed on record). */
export const leftoverDockerdDirs = (s: Pick<TestbedState, "plan">): string[] => dockerdNodes(s).flatMap((n) => dockerdLeftovers(n.engine));

/** Is the host's dockerd (as recorded, or per its pidfile) alive? Cheap: reads /proc only. */
export const dockerdAlive = (s: TestbedState, host: string): boolean => {
  const n = dockerdNodes(s).find((x) => x.name === host);
  return !!n && daemonPid(n.engine, s.enginePids?.[host]) !== undefined;
};

export async function dockerdsHealthy(s: TestbedState): Promise<boolean> {
  const checks = await Promise.all(dockerdNodes(s).map(async (n) => dockerdAlive(s, n.name) && (await engineAnswers(await engineAt(n.engine.socket), 2000))));
  return checks.every(Boolean);
}

/** Starts every engine in parallel; `save` persists the state after each PID is recorded. */
export async function startDockerds(s: TestbedState, save: () => void, progress: Progress): Promise<void> {
  const nodes = dockerdNodes(s);
  if (!nodes.length) return;
  progress({ type: "testbed", phase: "engines", detail: nodes.map((n) => n.name).join(",") }, `starting ${nodes.length} Docker engines (one per host)`);
  await Promise.all(nodes.map(async (n) => {
    const t0 = performance.now();
    await startDockerd(n.engine, n.netns, (pid) => {
      s.enginePids = { ...s.enginePids, [n.name]: pid };
      save();
    });
    const ms = Math.round(performance.now() - t0);
    progress({ type: "testbed", phase: "engine", node: n.name, socket: n.engine.socket, ms }, `  ${n.name}'s engine answers at ${n.engine.socket} (${ms} ms)`);
  }));
}

/** Removes every engine; all are attempted, the first failure is thrown afterwards. */
export async function removeDockerds(s: TestbedState): Promise<Map<string, DockerdRemoval>> {
  const done = new Map<string, DockerdRemoval>();
  const failures: unknown[] = [];
  await Promise.all(dockerdNodes(s).map((n) =>
    removeDockerd(n.engine, s.enginePids?.[n.name]).then((r) => void done.set(n.name, r), (e) => void failures.push(e))));
  if (failures.length) throw failures[0];
  return done;
}
