/**
 * `icon bench dht-micro`: tinybench measurements of the DHT's hot paths, the costs behind every datagram:
 * encoding and decoding the biggest replies, routing-table updates and closest-node queries on a table of
 * the size a 10,000-node network gives, and the per-datagram crypto (address token, record signature).
 */
import { Bench } from "tinybench";
import { generateIdentity } from "../identity/identity.ts";
import { FakeClock } from "../util/clock.ts";
import { encodeAnnouncement } from "../dht/announcement.ts";
import { decode, encode, MsgType, type Packet } from "../dht/codec.ts";
import { K } from "../dht/constants.ts";
import { keyOf, randomId, randomIdInBucket } from "../dht/id.ts";
import { RecordKind, signRecord, verifyRecord } from "../dht/record.ts";
import { RoutingTable } from "../dht/routing-table.ts";
import { AddressTokens } from "../dht/token.ts";
import { toHex } from "../util/hex.ts";

export interface MicroResult {
  task: string;
  /** Per operation, microseconds. */
  meanUs: number;
  medianUs: number;
  p99Us: number;
  opsPerSec: number;
  samples: number;
}

export async function runMicroBench(timeMs = 300): Promise<MicroResult[]> {
  const me = generateIdentity();
  const rid = new Uint8Array(8).fill(1);
  const token = new Uint8Array(8).fill(2);
  const key = keyOf("router", "10.0.2.0/29");
  const records = Array.from({ length: 8 }, (_, i) =>
    signRecord(me, RecordKind.ANNOUNCEMENT, key, {
      seq: i + 1,
      expiresAt: 2_000_000_000,
      payload: encodeAnnouncement({ address: "10.0.0.1", dhtPort: 4100, peerPort: 4101, rttMs: i, hops: 3, timestamp: 1_700_000_000_000 }),
    }),
  );
  const nodes: Packet = { flags: 0, rid, sender: me.nodeId, token, body: { type: MsgType.NODES, contacts: Array.from({ length: K }, (_, i) => ({ id: randomId(), address: `10.0.${i}.1`, port: 4100 })) } };
  const value: Packet = { flags: 0, rid, sender: me.nodeId, token, body: { type: MsgType.VALUE, kind: RecordKind.ANNOUNCEMENT, records } };
  const ping: Packet = { flags: 0, rid, sender: me.nodeId, token, body: { type: MsgType.PING } };
  const nodesBytes = encode(nodes);
  const valueBytes = encode(value);
  const pingBytes = encode(ping);

  // A table as a node of a 10,000-node network holds (about 14 non-empty buckets).
  const self = randomId();
  const table = new RoutingTable(self);
  for (let b = 0; b < 14; b++) for (let i = 0; i < (b < 10 ? K : K >> (b - 9)); i++) {
    const id = randomIdInBucket(self, b);
    table.heard(id, toHex(id), "10.1.0.1", 4100 + i, 0);
  }
  const known = table.all();
  const strangers = Array.from({ length: 4096 }, () => randomId());
  let n = 0;
  const tokens = new AddressTokens(new FakeClock());
  const t = tokens.issue("10.0.0.1", 4100);

  const bench = new Bench({ time: timeMs, warmupTime: 50 });
  bench
    .add("encode PING (39 B)", () => void encode(ping))
    .add("decode PING", () => void decode(pingBytes))
    .add(`encode NODES, 20 contacts (${nodesBytes.length} B)`, () => void encode(nodes))
    .add("decode NODES, 20 contacts", () => void decode(nodesBytes))
    .add(`encode VALUE, 8 announcements (${valueBytes.length} B)`, () => void encode(value))
    .add("decode VALUE, 8 announcements", () => void decode(valueBytes))
    .add(`table: hear a known contact (${known.length} contacts)`, () => {
      const c = known[n++ % known.length]!;
      table.heard(c.id, c.idHex, c.address, c.port, n);
    })
    .add("table: hear a stranger (insert or replacement cache)", () => {
      const id = strangers[n++ % strangers.length]!;
      table.heard(id, toHex(id), "10.2.0.1", 4100, n);
    })
    .add("table: 20 closest to a random id", () => void table.closest(strangers[n++ % strangers.length]!, K))
    .add("address token: check (two HMAC-SHA256)", () => void tokens.check("10.0.0.1", 4100, t))
    .add("record: verify ed25519 signature", () => void verifyRecord(RecordKind.ANNOUNCEMENT, key, records[0]!));
  await bench.run();
  return bench.tasks.map((task) => {
    const r = task.result;
    if (!("latency" in r)) throw new Error(`benchmark "${task.name}" did not complete (${r.state})`);
    const us = (ms: number) => Math.round(ms * 100_000) / 100;
    // ops/s as 1000 / mean latency (tinybench's throughput mean averages per-sample rates instead).
    return { task: task.name, meanUs: us(r.latency.mean), medianUs: us(r.latency.p50), p99Us: us(r.latency.p99), opsPerSec: Math.round(1000 / r.latency.mean), samples: r.latency.samplesCount };
  });
}
