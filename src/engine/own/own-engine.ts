/**
 * The node's own Docker engine (the design of k3s, which brings its own containerd): a dockerd that only
 * this node uses, with its own data root, exec-root and socket (own/plan.ts), user namespaces on
 * (`--userns-remap=default`: uid 0 in an ICON is uid 100000 on the host), a bridge the node makes
 * (bridge.ts), and no iptables or masquerading of its own (`--iptables=false --ip-masq=false`: the
 * operator's dockerd programs this namespace's DOCKER chains; the node's firewall does the rest). So no
 * tag, image, container or network of the operator's can be touched. On a host with a global IPv6 address
 * the bridge has a unique local /64 too (`--ipv6 --fixed-cidr-v6`), so IPv6 clients reach ICONs through
 * the firewall's ip6tables DNAT with their own address, as IPv4 clients do.
 *
 * Started at node start and stopped at node stop. After a crash of the node the engine keeps running
 * (it is detached): the next start finds it by its paths and reuses it, ICONs and all; after a crash of
 * the engine itself, whatever it left (shims, container processes, mounts) is cleaned before a new one
 * starts on the same data.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { dirname } from "node:path";
import { IconError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { formatCidr, type Cidr } from "../../util/ipv4.ts";
import { bindAddresses, canonicalIPv6 } from "../../util/ipv6.ts";
import type { ContainerEngine } from "../container-engine.ts";
import { liveDockerd, startDockerd, stopDockerd, assertUnmounted } from "../daemon/daemon.ts";
import { dockerdArgs } from "../daemon/plan.ts";
import { createDockerEngine } from "../docker-engine.ts";
import { BridgeNetwork } from "./bridge-network.ts";
import { Firewall, removeFirewall, type EgressPolicy } from "./firewall.ts";
import { ENGINE_DATA_DIR, ownEnginePlan, type OwnEnginePlan } from "./plan.ts";
import { deleteBridge, ensureBridge } from "./bridge.ts";

export interface OwnEngineInit {
  dataDir: string;
  /** "auto" or a CIDR (config iconSubnet). */
  subnet: string;
  egress: EgressPolicy;
  /** Where published ports answer (config listen). */
  listen: string;
  /** And over IPv6 (config listen6: empty is :: with listen 0.0.0.0, "off" none). @default "off" */
  listen6?: string;
  /** HOST:PORT of a plain-HTTP registry the engine may pull from (config registry); empty: none. */
  registry?: string;
  log: Logger;
}

const AGAIN = "start the node again (it cleans what its engine left)";
/** engine.log is kept to about this size: rotated once at start. */
const LOG_KEEP_BYTES = 8 * 2 ** 20;

export function ownDaemonArgv(plan: OwnEnginePlan, registry = "", subnet6?: string): string[] {
  return ["dockerd", ...dockerdArgs(plan), "--userns-remap=default", `--bridge=${plan.bridge}`, "--iptables=false", "--ip-masq=false",
    ...(subnet6 ? ["--ipv6", `--fixed-cidr-v6=${subnet6}`] : []), ...(registry ? [`--insecure-registry=${registry}`] : [])];
}

/**
 * The bridge's IPv6 /64 when ICONs should answer IPv6 clients: the node listens on IPv6 (listen6) and
 * the host has a global IPv6 address. A unique local prefix (RFC 4193) named by the engine key, so two
 * nodes on one host never share one.
 */
export function iconSubnet6(key: string, listen6: string | undefined): string | undefined {
  if (!listen6) return undefined;
  const global = Object.values(networkInterfaces()).flat().some((a) => a?.family === "IPv6" && !a.internal && /^[23]/.test(a.address));
  return global ? `${canonicalIPv6(`fd${key.slice(0, 2)}:${key.slice(2, 6)}:${key.slice(6, 10)}::`)}/64` : undefined;
}

function rotateLog(path: string): void {
  try {
    if (statSync(path).size > LOG_KEEP_BYTES) renameSync(path, `${path}.1`);
  } catch {}
}

export class OwnEngine {
  private constructor(
    readonly plan: OwnEnginePlan,
    readonly engine: ContainerEngine,
    readonly network: BridgeNetwork,
    private readonly firewall: Firewall,
    readonly pid: number,
    /** True when a running engine (left by a node that crashed) was taken over. */
    readonly reused: boolean,
    readonly subnet: Cidr,
    readonly startMs: number,
  ) {}

  static async start(init: OwnEngineInit): Promise<OwnEngine> {
    const t0 = performance.now();
    if (process.getuid?.() !== 0)
      throw new IconError("PERMISSION", "the node's own Docker engine needs root (dockerd, user namespaces, its bridge and firewall)",
        "Run the node as root, or set engine to external (ICON_ENGINE=external) with a Docker engine dedicated to it.");
    const plan = ownEnginePlan(init.dataDir);
    // The remapped root (uid 100000) must be able to pass through every directory above the data root.
    for (const dir of [dirname(ENGINE_DATA_DIR), ENGINE_DATA_DIR]) {
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      chmodSync(dir, 0o711);
    }
    let pid = await liveDockerd(plan);
    const reused = pid !== undefined;
    const subnet = await ensureBridge(plan.bridge, init.subnet, plan.key, reused);
    const binds = bindAddresses(init.listen, init.listen6 ?? "off");
    const subnet6 = iconSubnet6(plan.key, binds.address6);
    if (!pid) {
      const left = await stopDockerd(plan, undefined, AGAIN);
      if (left.daemon || left.killed || left.unmounted) init.log.warn("cleaned what a crashed engine left", { ...left });
      rotateLog(plan.log);
      pid = await startDockerd(plan, {
        argv: ownDaemonArgv(plan, init.registry, subnet6), what: `the node's engine (dockerd on ${plan.socket})`,
        fix: `Those are the last lines of ${plan.log}; check that dockerd with --userns-remap=default starts here (scripts/setup.sh installs docker.io), or set engine to external.`,
      });
    }
    const engine = await createDockerEngine(plan.socket, { unreachableFix: "Restart the node: it restarts its engine." });
    try {
      const firewall = new Firewall({ chains: plan.chains, bridge: plan.bridge, subnet, egress: init.egress, listen: init.listen, ...(subnet6 ? { subnet6, listen6: binds.address6 } : {}) });
      await firewall.setup();
      // Ports are held where they answer: "::" holds both families (one dual-stack socket).
      const hold = !subnet6 ? [init.listen] : binds.dual ? ["::"] : [init.listen, binds.address6!];
      const network = new BridgeNetwork(engine, firewall, plan.network, hold, init.egress, init.log, subnet6 !== undefined);
      init.log.info(reused ? "reusing the node's engine" : "started the node's engine", { socket: plan.socket, pid, subnet: formatCidr(subnet), subnet6, egress: init.egress });
      return new OwnEngine(plan, engine, network, firewall, pid, reused, subnet, Math.round(performance.now() - t0));
    } catch (e) {
      if (!reused) await stopDockerd(plan, pid, AGAIN).catch(() => {});
      throw e;
    }
  }

  /** Refusals the firewall counted, by reason. */
  dropped() {
    return this.firewall.dropped();
  }

  /** Stops the engine (its ICONs are stopped by the yard first), removes the firewall and the bridge. */
  async stop(): Promise<void> {
    this.network.close();
    await this.firewall.teardown();
    await stopDockerd(this.plan, this.pid, AGAIN);
    // Made again at the next start; meanwhile the host keeps no trace of it.
    await deleteBridge(this.plan.bridge);
  }
}

/**
 * `icon engine rm`: removes a node's engine with everything it holds (containers, images, the data root)
 * and whatever a crash left of it. Its node must be stopped (the command checks).
 */
export async function removeOwnEngine(dataDir: string): Promise<{ dataRoot: string; removed: boolean }> {
  const plan = ownEnginePlan(dataDir);
  const existed = existsSync(plan.dataRoot) || existsSync(plan.runDir);
  await stopDockerd(plan, undefined, "run icon engine rm again");
  await removeFirewall(plan);
  await deleteBridge(plan.bridge);
  assertUnmounted(plan, "run icon engine rm again");
  rmSync(plan.runDir, { recursive: true, force: true });
  rmSync(plan.dataRoot, { recursive: true, force: true });
  return { dataRoot: plan.dataRoot, removed: existed };
}
