/**
 * A target node for the image attacks: a peer network on loopback and a yard, wired as a node wires
 * them (startReplicate), on an in-memory engine or on the real Docker engine. The attacker only ever
 * talks to it over its peer port.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../../src/config/schema.ts";
import type { ContainerEngine } from "../../../src/engine/container-engine.ts";
import { MemoryEngine } from "../../../src/engine/memory-engine.ts";
import { generateIdentity } from "../../../src/identity/identity.ts";
import type { ImageShipping } from "../../../src/images/images.ts";
import { silentLogger } from "../../../src/log.ts";
import { PeerNetwork, type PeerEndpoint } from "../../../src/peer/network.ts";
import { startReplicate } from "../../../src/peer/replicate.ts";
import { Yard } from "../../../src/yard/yard.ts";
import { Admission } from "../../../src/peer/admission.ts";
import { toHex } from "../../../src/util/hex.ts";
import { quotasOf } from "../../support/replicate-nodes.ts";
import { CONFIG_DEFAULTS } from "../../support/memory-yard.ts";

export interface ImageTargetNode {
  endpoint: PeerEndpoint;
  engine: ContainerEngine;
  yard: Yard;
  shipping: ImageShipping;
  dataDir: string;
  /** The image id `ref` names on the target's engine. */
  imageOf(ref: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function imageTarget(o: { engine?: ContainerEngine; config?: Partial<Config> } = {}): Promise<ImageTargetNode> {
  const engine = o.engine ?? new MemoryEngine();
  const identity = generateIdentity();
  const net = new PeerNetwork({ identity, log: silentLogger, listen: "127.0.0.1", port: 0, advertisedAddress: () => "127.0.0.1" });
  await net.start();
  const dataDir = await mkdtemp(join(tmpdir(), "icon-hostile-"));
  const config: Config = { ...CONFIG_DEFAULTS, dataDir, listen: "127.0.0.1", portRange: "20000-20009", iconReadySec: 1, ...o.config };
  const yard = new Yard({ config, nodeId: net.nodeId, owner: identity, log: silentLogger, engine, address: () => "127.0.0.1", portFree: async () => true });
  await yard.reconcile();
  const admission = await Admission.open(dataDir, "open", toHex(identity.publicKey));
  const { shipping } = await startReplicate({
    network: net, yard, ready: async () => yard, findCloser: async () => [], log: silentLogger, prefetchAfter: 0, images: config, admission, quotas: quotasOf(),
  });
  return {
    endpoint: { nodeId: net.nodeId, address: "127.0.0.1", port: net.port },
    engine, yard, shipping, dataDir,
    imageOf: async (ref) => (await engine.inspectImage(ref))?.id,
    async close() {
      shipping.close();
      await yard.close();
      await net.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
