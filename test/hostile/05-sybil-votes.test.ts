/**
 * Finding 5: the address a node gives for its ICONs is set by Sybil votes. Every PONG says where the
 * request came from, and the node trusted an address once 3 peers agreed, one vote per node id. Node ids
 * are free: 64 fresh ids on one host, each verified by the node (it pings them) and each answering with the
 * address the attacker wants, decided the node's external address. Real sockets on loopback.
 */
import { afterEach, expect, test } from "bun:test";
import { sybilVotes } from "../../src/bench/hostile/dht-attacks.ts";
import { endpointOf, udpNodes } from "./support/dht-nodes.ts";

const nodes = udpNodes();
afterEach(() => nodes.stopAll());

test("64 fresh ids from one /24 do not decide the node's external address", async () => {
  const node = await nodes.node();
  const claim = { address: "203.0.113.66", port: 4100 };
  const report = await sybilVotes({ target: endpointOf(node), claim, ids: 64, externalAddress: () => node.externalAddress() });
  expect(report.detail.pinged).toBeGreaterThan(0); // the node did hear the ids out
  expect(report.outcome).toBe("refused");
  expect(node.advertisedAddress()).toBe("127.0.0.1");
}, 30_000);
