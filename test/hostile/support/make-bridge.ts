/**
 * Makes the node's ICON bridge with the node's own code (src/engine/own/bridge.ts) in the network
 * namespace this runs in: `ip netns exec NS bun make-bridge.ts NAME SUBNET`.
 */
import { ensureBridge } from "../../../src/engine/own/bridge.ts";

const [name, subnet] = process.argv.slice(2);
if (!name || !subnet) throw new Error("usage: make-bridge.ts NAME SUBNET");
await ensureBridge(name, subnet, "test", false);
