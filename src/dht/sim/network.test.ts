import { describe, expect, test } from "bun:test";
import { MsgType } from "../codec.ts";
import { RPC_ATTEMPTS, UNVERIFIED_ATTEMPTS } from "../constants.ts";
import type { Dht } from "../dht.ts";
import type { RpcTarget } from "../rpc.ts";
import { SimNetwork } from "./network.ts";

/** Pings each target from `from` (every one unanswered), sending each again twice at once as a cut-off lookup's probes would: datagrams sent per ping. */
async function pingUnanswered(net: SimNetwork, from: Dht, targets: RpcTarget[]): Promise<number[]> {
  const sent = targets.map(() => 0);
  const resends: (() => boolean)[] = [];
  const pings = targets.map((t, i) => from.request(t, { type: MsgType.PING }, { onSend: () => sent[i]!++, onResend: (r) => resends.push(r) }));
  for (const resend of resends) resend(), resend();
  const results = await net.run(Promise.all(pings));
  expect(results.every((r) => !r.ok)).toBe(true);
  return sent;
}

describe("a seeded network", () => {
  test("a node has heard from its table's contacts: cut off, its requests to them are not held to the budget of addresses that never answered", async () => {
    let cut: string | undefined;
    const net = new SimNetwork({ seed: 3, links: { delayMs: () => 10, loss: (a, b) => (a === cut || b === cut ? 1 : 0) } });
    await net.populate(120);
    const node = net.nodes[0]!;
    const contacts = node.table.all();
    const strangers = net.nodes.filter((n) => n !== node && !node.table.get(n.nodeId)).map((n) => ({ address: n.opts.transport.address, port: n.port, id: n.id }));
    expect(contacts.length).toBeGreaterThan(40);
    expect(strangers.length).toBeGreaterThan(0);
    cut = node.opts.transport.address; // its own link goes down: nothing gets through either way

    // Every attempt and both resends go out, as to any contact that has answered.
    expect(await pingUnanswered(net, node, contacts)).toEqual(contacts.map(() => RPC_ATTEMPTS + 2));
    expect(node.counters.refused.unverifiedSends).toBe(0);
    // The guard itself is unchanged: to an address that never answered, a resend takes a retransmission's place.
    expect(await pingUnanswered(net, node, strangers)).toEqual(strangers.map(() => UNVERIFIED_ATTEMPTS));
  });
});
