/**
 * What an attack of `icon bench hostile` gets to work with inside the attacker's namespace: the spec, its
 * addresses, and the bench's view of each target (local API, engine, process memory), which follows a
 * node across its restarts (the edge restarts before every hot and cold sample).
 */
import { readFileSync } from "node:fs";
import { answer, nodeAnswers, nodeClient, readStream, type NodeClient } from "../../api/client.ts";
import type { ContainerEngine } from "../../engine/container-engine.ts";
import { createDockerEngine } from "../../engine/docker-engine.ts";
import type { PeerEndpoint } from "../../peer/network.ts";
import type { Endpoint } from "../../dht/codec.ts";
import { AttackerAddresses, CANARY_KEY, canaryValue, type AttackerSpec, type HostileTarget, type Role } from "./run-spec.ts";

/** A field of /proc/PID/status in bytes (VmRSS, VmHWM), 0 when the process is gone. */
export function procMemory(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s*(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const peerEndpoint = (t: HostileTarget): PeerEndpoint => ({ nodeId: t.nodeId, address: t.address, port: t.peerPort });
export const dhtEndpoint = (t: HostileTarget): Endpoint => ({ address: t.address, port: t.dhtPort });

export class AttackContext {
  readonly addr: AttackerAddresses;
  /** Things an attack keeps between its rounds (a victim's listener, an owner key). */
  readonly kept = new Map<string, unknown>();
  round = 0;
  private readonly apis = new Map<string, NodeClient>();
  private readonly engines = new Map<string, ContainerEngine>();
  private readonly pids = new Map<string, number>();

  constructor(readonly spec: AttackerSpec) {
    this.addr = new AttackerAddresses(spec.attacker.primary, spec.attacker.block);
  }

  target(role: Role): HostileTarget {
    const t = this.spec.targets.find((x) => x.role === role);
    if (!t) throw new Error(`no ${role} in the attacker's spec`);
    return t;
  }

  api(t: HostileTarget): NodeClient {
    let a = this.apis.get(t.role);
    if (!a) this.apis.set(t.role, (a = nodeClient(t.dataDir)));
    return a;
  }

  async engine(t: HostileTarget): Promise<ContainerEngine> {
    let e = this.engines.get(t.role);
    if (!e) this.engines.set(t.role, (e = await createDockerEngine(t.engineSocket)));
    return e;
  }

  async status(t: HostileTarget) {
    return answer(this.api(t).v1.status.$get());
  }

  /** Waits (up to 30 s) for a node that is restarting to answer again: an attack then meets the node, not its absence. */
  async awaitNode(t: HostileTarget): Promise<void> {
    for (const end = Date.now() + 30_000; Date.now() < end; await Bun.sleep(200)) if (await nodeAnswers(t.dataDir)) return;
  }

  /** The node's current process, once it answers (0 if it does not); rss() follows it. */
  async pidOf(t: HostileTarget): Promise<number> {
    await this.awaitNode(t);
    const pid = await this.status(t).then((s) => s.pid, () => 0);
    if (pid) this.pids.set(t.role, pid);
    return pid;
  }

  /** The node's resident memory now (0 while it restarts). */
  rss(t: HostileTarget): number {
    return procMemory(this.pids.get(t.role) ?? 0, "VmRSS");
  }

  /**
   * The other node's canary as `t` reads it, put again by its publisher first if `t` reads none: the
   * edge's store goes with every restart, and in a DHT of two nodes nobody else keeps a copy for it.
   */
  async canary(t: HostileTarget, publisher: HostileTarget): Promise<{ value: string; source: string } | undefined> {
    const read = () => this.dhtGet(t, CANARY_KEY, publisher.nodeId);
    const held = await read();
    if (held?.value === canaryValue(publisher.role)) return held;
    await readStream(this.api(publisher).v1.dht.put.$post({ json: { key: CANARY_KEY, value: canaryValue(publisher.role) } })).catch(() => {});
    return read();
  }

  /** Reads a value a node holds, as an honest user would (`icon dht get KEY --publisher P` on `t`); undefined when none. */
  async dhtGet(t: HostileTarget, key: string, publisher: string): Promise<{ value: string; source: string } | undefined> {
    return readStream(this.api(t).v1.dht.get.$post({ json: { key, publisher } })).catch(() => undefined);
  }
}
