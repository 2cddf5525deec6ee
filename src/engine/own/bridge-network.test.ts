import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../log.ts";
import type { ContainerSpec } from "../container-engine.ts";
import { MemoryEngine } from "../memory-engine.ts";
import { BridgeNetwork } from "./bridge-network.ts";
import type { Firewall } from "./firewall.ts";

/** The firewall is the seam here: what it was asked to publish, nothing applied. */
function recordingFirewall() {
  const published: { port: number; address: string }[] = [];
  const firewall = { publish: async (port: number, address: string) => void published.push({ port, address }), unpublish: async () => {} };
  return { published, firewall: firewall as unknown as Firewall };
}

const iconSpec = (network: ContainerSpec["network"]): ContainerSpec => ({
  name: "icon-web", image: "app:1", env: {}, labels: {}, user: "", binds: [], tmpfs: {}, readOnlyRoot: true, capDrop: [],
  securityOpt: [], memoryBytes: 0, nanoCpus: 0, pidsLimit: 0, init: false, network, stopTimeoutSec: 1,
});

describe("bridge network: attaching an ICON's container", () => {
  test("an ICON that crashed before attach is attached at its holder's address (it fails for its exit, not for an address)", async () => {
    const engine = new MemoryEngine();
    await engine.addImage("app:1");
    engine.program("app:1", (p) => p.exit(3)); // exits as soon as it starts
    const { published, firewall } = recordingFirewall();
    const net = new BridgeNetwork(engine, firewall, "bridge", ["127.0.0.1"], "internet", silentLogger);
    await net.check("web");
    const id = await engine.createContainer(iconSpec(net.spec(20000, "web")));
    await engine.startContainer(id);
    expect((await engine.inspectContainer(id))?.running).toBe(false);
    try {
      const facts = await net.attach(id, 20000, "web");
      const holder = engine.all().find((c) => c.name.endsWith("web") && c.id !== id)!;
      expect(facts.address).toBe((await engine.inspectContainer(holder.id))!.addresses.bridge!);
      expect(published).toEqual([{ port: 20000, address: facts.address! }]);
    } finally {
      await net.detach(20000);
      net.close();
    }
  });
});
