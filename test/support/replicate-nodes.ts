/**
 * Nodes that replicate without root or Docker: each has its own identity, in-memory container engine and
 * yard, a real peer network on loopback, and both sides of replicate wired as a node wires them
 * (peer/replicate.ts), with its own admission list and quotas.
 */
import type { Icon } from "../../icon-runtime/src/index.ts";
import { parseQuota, type Quota } from "../../src/config/quota.ts";
import { QUOTA_DEFAULTS } from "../../src/config/schema.ts";
import { MemoryEngine } from "../../src/engine/memory-engine.ts";
import { generateIdentity, type Identity } from "../../src/identity/identity.ts";
import { silentLogger } from "../../src/log.ts";
import { Admission, type AdmissionMode } from "../../src/peer/admission.ts";
import type { PeerNetwork, PeerNetworkInit } from "../../src/peer/network.ts";
import { QuotaLedger, type Quotas } from "../../src/peer/quota.ts";
import { startReplicate } from "../../src/peer/replicate.ts";
import type { ReplicateSource } from "../../src/peer/replicate-source.ts";
import type { ReplicateTarget } from "../../src/peer/replicate-target.ts";
import { toHex } from "../../src/util/hex.ts";
import type { FakeClock } from "../../src/util/clock.ts";
import { CONFIG_DEFAULTS, iconProgram, memoryYard, until, type MemoryYard } from "./memory-yard.ts";
import { loopbackNetworks } from "./peers.ts";

export const APP = "app:1";
export const LAYERS = ["the runtime base layer", "the application layer"];
/** APP's id on any memory engine (ids are content digests): a replica runs by id, so its program is registered by id. */
export const APP_ID = (await new MemoryEngine().addImage(APP, { layers: LAYERS })).id;

export interface TestNode {
  identity: Identity;
  /** This node's owner key (hex of its public key). */
  ownerKey: string;
  net: PeerNetwork;
  my: MemoryYard;
  engine: MemoryEngine;
  admission: Admission;
  source: ReplicateSource;
  target: ReplicateTarget;
}

export interface NodeOptions {
  clock?: FakeClock;
  readySec?: number;
  admission?: AdmissionMode;
  /** Owner keys on the allowlist. */
  allow?: string[];
  /** Quotas other than the defaults, e.g. { total: ["replicas=3"] }. */
  quotas?: Partial<Record<keyof Quotas, string[]>>;
  /** A registry this node's engine reaches (images by full tag, shared with other engines) and pulls replicas' images from, at `address`. */
  registry?: { images: Map<string, Uint8Array>; address: string };
  /** Peer network settings besides loopback IPv4 (listen6, advertisedAddress6...). */
  net?: Partial<PeerNetworkInit>;
}

const quota = (list: readonly string[] | undefined, defaults: readonly string[]) => parseQuota(list ?? [], parseQuota(defaults) as Quota) as Quota;

/** The default quotas, with the dimensions `over` names changed. */
export function quotasOf(over: NodeOptions["quotas"] = {}): Quotas {
  return { perOwner: quota(over.perOwner, QUOTA_DEFAULTS.perOwner), perPeer: quota(over.perPeer, QUOTA_DEFAULTS.perPeer), total: quota(over.total, QUOTA_DEFAULTS.total) };
}

/** A ledger for a target that never creates a replica (it only answers offers). */
export const unusedQuota = () => new QuotaLedger({ quotas: quotasOf(), holdings: () => [], imageSize: async () => 0 });

/** Where a replicate reaches a test node. */
export const to = (n: TestNode) => ({ nodeId: n.net.nodeId, address: "127.0.0.1", peerPort: n.net.port });

export function replicateNodes() {
  const { network, stopAll } = loopbackNetworks();
  let yards: MemoryYard[] = [];

  async function node(o: NodeOptions = {}): Promise<TestNode> {
    const identity = generateIdentity();
    const net = await network(identity, o.clock, o.net);
    const engine = new MemoryEngine("memory-engine", undefined, o.registry?.images);
    await engine.addImage("base:1", { layers: LAYERS.slice(0, 1) }); // every node holds the runtime's base layer
    const my = await memoryYard({ engine, identity, config: { iconReadySec: o.readySec ?? 5 } });
    yards.push(my);
    const ownerKey = toHex(identity.publicKey);
    const admission = await Admission.open(my.dir, o.admission ?? "open", ownerKey);
    for (const key of o.allow ?? []) await admission.allow(key);
    const { source, target } = await startReplicate({
      network: net, yard: my.yard, ready: async () => my.yard, findCloser: async () => [], log: silentLogger, prefetchAfter: 0,
      images: { ...CONFIG_DEFAULTS, dataDir: my.dir }, admission, quotas: quotasOf(o.quotas), registry: o.registry?.address,
    });
    return { identity, ownerKey, net, my, engine, admission, source, target };
  }

  /** A node running the root ICON `name` of APP; with the ICON's runtime, to replicate from. */
  async function origin(o: NodeOptions & { name?: string } = {}): Promise<TestNode & { icon: Icon }> {
    const n = await node(o);
    await n.engine.addImage(APP, { layers: LAYERS });
    return { ...n, icon: await runRoot(n, o.name ?? "web") };
  }

  /** Runs a root ICON of APP on `n` and resolves with its runtime. */
  async function runRoot(n: TestNode, name: string, image = APP): Promise<Icon> {
    let icon: Icon | undefined;
    n.engine.program(image, iconProgram({ setup: (i) => void (icon = i) }));
    await n.my.yard.run({ image, name });
    await until(`the root ICON ${name}'s runtime`, () => icon);
    return icon!;
  }

  async function closeAll(): Promise<void> {
    await Promise.all(yards.map((y) => y.close()));
    yards = [];
    await stopAll();
  }

  return { node, origin, runRoot, network, closeAll };
}
