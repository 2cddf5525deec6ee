/**
 * Yards on the in-memory container engine, for unit tests that need neither root nor Docker: ICON
 * containers run the icon-runtime library on their (real) runtime socket, in this process.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIcon, type Icon } from "../../icon-runtime/src/index.ts";
import { SCHEMA, type Config } from "../../src/config/schema.ts";
import { MemoryEngine, type ContainerProcess, type Program } from "../../src/engine/memory-engine.ts";
import { silentLogger } from "../../src/log.ts";
import type { Clock } from "../../src/util/clock.ts";
import { generateIdentity, type Identity } from "../../src/identity/identity.ts";
import { toHex } from "../../src/util/hex.ts";
import { signManifest, type SignedManifest } from "../../src/yard/manifest.ts";
import { SOCKET_DIR, type Policy } from "../../src/yard/protocol.ts";
import type { StateEvent } from "../../src/yard/state.ts";
import { Yard, type YardConfig, type YardOptions } from "../../src/yard/yard.ts";

/** Every setting at its default (a test sets dataDir and what it changes). */
export const CONFIG_DEFAULTS = Object.fromEntries(Object.entries(SCHEMA).map(([k, v]) => [k, v.default])) as unknown as Config;

/** A manifest some other node's owner signed, for a replica made directly on a yard. */
export function replicaManifest(policy: Policy = {}, imageId = `sha256:${"0".repeat(64)}`): SignedManifest {
  return signManifest(generateIdentity(), { name: "root", imageId, env: {}, policy });
}

/**
 * An ICON's process: the runtime on the container's socket; `setup` runs first (listeners, initial
 * state, as an ICON's code does before it serves), then it is ready on ICON_PORT unless `ready` is
 * false. Stopped, it exits 0, as the runtime does after its terminate handlers.
 */
export function iconProgram(o: { ready?: boolean; setup?: (icon: Icon, p: ContainerProcess) => void | Promise<void> } = {}): Program {
  return async (p) => {
    const icon = createIcon({ socketPath: join(p.hostPath(SOCKET_DIR)!, "icon.sock"), exitOnTerminate: false });
    p.signal.addEventListener("abort", () => {
      icon.close();
      p.exit(0);
    });
    p.log(`${p.spec.env.ICON_NAME} starting`);
    await o.setup?.(icon, p);
    if (o.ready ?? true) await icon.ready(Number(p.spec.env.ICON_PORT));
  };
}

/** A program that logs and exits with `code` before it is ready (a crash at start). */
export const crashProgram = (code: number, ...lines: string[]): Program => (p) => {
  for (const l of lines) p.log(l, "stderr");
  p.exit(code);
};

export interface MemoryYard {
  yard: Yard;
  engine: MemoryEngine;
  nodeId: string;
  dir: string;
  /** The yard's state events so far. */
  events: StateEvent[];
  /** A second yard on the same data dir and engine: the node restarted (the first one is closed). */
  restart(): Promise<Yard>;
  close(): Promise<void>;
}

/**
 * A yard on a fresh data dir, reconciled as a starting node's is, on `engine` (a new memory engine by
 * default); `identity` is the node's (a new one by default), the owner of its root ICONs.
 */
export async function memoryYard(o: { engine?: MemoryEngine; clock?: Clock; config?: Partial<YardConfig>; identity?: Identity; options?: Partial<YardOptions> } = {}): Promise<MemoryYard> {
  const engine = o.engine ?? new MemoryEngine();
  const owner = o.identity ?? generateIdentity();
  const nodeId = toHex(owner.nodeId);
  const dir = await mkdtemp(join(tmpdir(), "icon-myard-"));
  const config: YardConfig = { ...CONFIG_DEFAULTS, dataDir: dir, listen: "127.0.0.1", portRange: "20000-20009", iconReadySec: 5, ...o.config };
  const events: StateEvent[] = [];
  const open = () => {
    const y = new Yard({ config, nodeId, owner, log: silentLogger, engine, address: () => "127.0.0.1", portFree: async () => true, clock: o.clock, ...o.options });
    y.events.on("state", (e) => void events.push(e));
    return y;
  };
  const my: MemoryYard = {
    yard: open(),
    engine, nodeId, dir, events,
    async restart() {
      await my.yard.close();
      my.yard = open();
      await my.yard.reconcile();
      return my.yard;
    },
    async close() {
      await my.yard.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await my.yard.reconcile(); // as the node does before the yard serves (and it starts the idle loop)
  return my;
}

/** Resolves when `yard` emits a state event matching `pred` (or one already in `events` does). */
export function untilState(my: MemoryYard, pred: (e: StateEvent) => boolean): Promise<StateEvent> {
  const seen = my.events.find(pred);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const off = my.yard.events.on("state", (e) => {
      if (!pred(e)) return;
      off();
      resolve(e);
    });
  });
}

/** Polls `f` until it holds (work the yard finishes on its own, after the call that started it returned). */
export async function until(what: string, f: () => unknown, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !f(); await Bun.sleep(5)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}
