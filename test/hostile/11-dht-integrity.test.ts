/**
 * Finding 11: DHT integrity. Real nodes on real UDP sockets on loopback (attacker in 127.0.0.0/24, honest
 * nodes in 127.0.1.0/24).
 * - Request proofs were not bound to the node receiving them: copied off the wire, one was accepted by any
 *   other node, filing the honest id under the attacker's address; and at the same node once 8192 fresh
 *   proofs had cleared its memory of used ones (after which the honest node's entry moved to the attacker).
 * - STORE was accepted without an address token, so a spoofed source dodged the per-IP limits.
 * - A full store evicted the keys farthest from the node's id first: records under keys next to its id
 *   (keys cost nothing to pick) evicted everything it held for others.
 * - For a value, the highest seq of any publisher won: seq = 2^48-1 locked a key for good.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { floodNearId, lockValue, RawDhtPeer, replayRequestProof, storeWithoutToken } from "../../src/bench/hostile/dht-attacks.ts";
import { decode, Flag, REQUEST_TYPES } from "../../src/dht/codec.ts";
import type { Dht } from "../../src/dht/dht.ts";
import { publisherOf } from "../../src/dht/record.ts";
import { endpointOf, RecordingTransport, udpNodes } from "./support/dht-nodes.ts";

const nodes = udpNodes();
const closers: { close(): void }[] = [];
afterEach(async () => {
  await nodes.stopAll();
  for (const c of closers.splice(0)) c.close();
});

async function attacker(): Promise<RawDhtPeer> {
  const a = await RawDhtPeer.udp("127.0.0.1");
  closers.push(a);
  return a;
}

/** Where `at` files the node id `who`, if anywhere. */
function filedAt(at: Dht, who: Dht): string | undefined {
  const c = at.table.get(who.nodeId);
  return c && `${c.address}:${c.port}`;
}

/** An honest node that joined `target` through a recording transport, and the first proof it sent there. */
async function honestWithProof(target: Dht) {
  let rec: RecordingTransport | undefined;
  const honest = await nodes.node({ address: "127.0.1.1", bootstrap: [endpointOf(target)], wrap: (t) => (rec = new RecordingTransport(t)) });
  await honest.join();
  await Bun.sleep(200);
  const captured = rec!.sent.find((s) => s.to.port === target.port && REQUEST_TYPES.has(decode(s.data).body.type) && decode(s.data).flags & Flag.HAS_PROOF);
  return { honest, captured: captured!.data };
}

describe("finding 11: request proofs", () => {
  test("a proof copied off the wire does not plant the honest id at another node", async () => {
    const a = await nodes.node();
    const c = await nodes.node();
    const { honest, captured } = await honestWithProof(a);
    const mallory = await attacker();
    const report = await replayRequestProof({ captured, attacker: mallory, target: endpointOf(c), planted: () => filedAt(c, honest) !== undefined });
    expect(report.outcome).toBe("refused");
  });

  test("nor at the same node after a flood of fresh proofs, even once the honest node is gone", async () => {
    const a = await nodes.node({ rateLimits: { perAddress: 1e6, perIp: 1e6 } });
    const { honest, captured } = await honestWithProof(a);
    const where = filedAt(a, honest);
    expect(where).toBe(`127.0.1.1:${honest.port}`);
    await honest.stop(); // offline: a move of its entry is no longer refused by its own answer
    const mallory = await attacker();
    const report = await replayRequestProof({ captured, attacker: mallory, target: endpointOf(a), flood: 9000, perSecond: 5000, planted: () => filedAt(a, honest) === `127.0.0.1:${mallory.endpoint.port}` });
    expect(report.outcome).toBe("refused");
  }, 30_000);
});

describe("finding 11: storage", () => {
  test("a STORE without an address token is refused", async () => {
    const a = await nodes.node();
    const report = await storeWithoutToken({ attacker: await attacker(), target: endpointOf(a) });
    expect(report.outcome).toBe("refused");
  });

  test("records under keys next to the node's id do not evict what it holds for others", async () => {
    const a = await nodes.node({ storeLimits: { maxKeys: 64 } });
    const honest = await nodes.node({ address: "127.0.1.1", bootstrap: [endpointOf(a)] });
    await honest.join();
    expect((await honest.put("kept", "a value an honest node stored")).ok).toBe(true);
    const held = () => [...a.store.entries()].some((e) => e.records.some((r) => publisherOf(r) === honest.nodeId));
    expect(held()).toBe(true);
    const report = await floodNearId({ attacker: await attacker(), target: endpointOf(a), targetId: a.id, records: 200, survived: held });
    expect(report.detail.stored).toBeGreaterThan(0); // the attacker may store, within its share
    expect(report.outcome).toBe("contained");
  });

  test("a value stored with seq 2^48-1 does not lock the key: its publisher's own value is still read and updated", async () => {
    const a = await nodes.node();
    const honest = await nodes.node({ address: "127.0.1.1", bootstrap: [endpointOf(a)] });
    await honest.join();
    await honest.put("greeting", "hello");
    const read = async () => {
      const r = await a.get("greeting", { publisher: honest.nodeId });
      return r && new TextDecoder().decode(r.value);
    };
    const report = await lockValue({ attacker: await attacker(), target: endpointOf(a), name: "greeting", publisher: honest.id, read, honest: "hello" });
    expect(report.outcome).toBe("refused");
    await honest.put("greeting", "hello again");
    expect(await read()).toBe("hello again");
  });
});
