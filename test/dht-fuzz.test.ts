/**
 * Fuzz: 100,000 random and mutated datagrams over real UDP on loopback at a live node (the compiled binary).
 * The node must keep answering throughout, its memory must stay bounded, and its counters must show the
 * hostile input dropped by reason. Mutations start from valid datagrams of every type (so they reach deep
 * into the decoder and the handlers), plus pure noise and oversized datagrams.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answer, nodeClient } from "../src/api/client.ts";
import { encodeAnnouncement } from "../src/dht/announcement.ts";
import { decode, encode, Flag, MsgType, StoreStatus, zeroToken, type Body, type Packet } from "../src/dht/codec.ts";
import { keyOf, randomId, valueKey } from "../src/dht/id.ts";
import { makeProof, makeRequestProof } from "../src/dht/proof.ts";
import { RecordKind, signRecord, valuePayload } from "../src/dht/record.ts";
import { seededRandom } from "../src/util/random.ts";
import { generateIdentity } from "../src/identity/identity.ts";
import { BINARY, describeWith } from "./support/needs.ts";

const TOTAL = 100_000;

function corpus(): Uint8Array[] {
  const me = generateIdentity();
  const key = keyOf("router", "10.0.2.0/29");
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  const announcement = signRecord(me, RecordKind.ANNOUNCEMENT, key, {
    seq: Date.now(),
    expiresAt,
    payload: encodeAnnouncement({ address: "10.0.0.1", dhtPort: 4100, peerPort: 4101, rttMs: 5, hops: 2, timestamp: Date.now() }),
  });
  const valueAt = valueKey(me.nodeId, keyOf("value", "k"));
  const value = signRecord(me, RecordKind.VALUE, valueAt, { seq: 1, expiresAt, payload: valuePayload(keyOf("value", "k"), new TextEncoder().encode("v")) });
  const bodies: Body[] = [
    { type: MsgType.PING },
    { type: MsgType.PONG, observed: { address: "127.0.0.1", port: 9 } },
    { type: MsgType.FIND_NODE, target: randomId() },
    { type: MsgType.NODES, contacts: Array.from({ length: 20 }, (_, i) => ({ id: randomId(), address: `10.0.0.${i + 1}`, port: 4100 })) },
    { type: MsgType.FIND_VALUE, kind: RecordKind.ANNOUNCEMENT, key },
    { type: MsgType.VALUE, kind: RecordKind.ANNOUNCEMENT, records: [announcement, announcement] },
    { type: MsgType.STORE, kind: RecordKind.ANNOUNCEMENT, key, record: announcement },
    { type: MsgType.STORE, kind: RecordKind.VALUE, key: valueAt, record: value },
    { type: MsgType.STORED, status: StoreStatus.STORED },
  ];
  const out: Uint8Array[] = [];
  for (const body of bodies) {
    const p: Packet = { flags: 0, rid: randomId().slice(0, 8), sender: me.nodeId, token: zeroToken(), body };
    out.push(encode(p));
    if (body.type % 2 === 1) {
      out.push(encode({ ...p, flags: Flag.WANT_PROOF, padTo: 700 }));
      out.push(encode({ ...p, proof: makeRequestProof(me, p.rid, randomId(), p.token) }));
    } else out.push(encode({ ...p, proof: makeProof(me, p.rid, randomId()) }));
  }
  return out;
}

function mutants(seed: number, count: number): Uint8Array[] {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const valid = corpus();
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const base = valid[int(valid.length)]!;
    let b: Uint8Array;
    switch (int(8)) {
      case 0: // noise, sometimes oversized
        b = new Uint8Array(int(1500)).map(() => int(256));
        break;
      case 1: // noise behind a correct magic byte and a known type
        b = new Uint8Array(1 + int(1300)).map(() => int(256));
        b[0] = 0xc1;
        if (b.length > 1) b[1] = 1 + int(8);
        break;
      case 2: // cut short
        b = base.slice(0, int(base.length));
        break;
      case 3: // garbage appended
        b = new Uint8Array(base.length + 1 + int(300));
        b.set(base);
        for (let j = base.length; j < b.length; j++) b[j] = int(256);
        break;
      case 4: // one field pushed to its maximum
        b = base.slice();
        b[39 + int(Math.max(1, b.length - 39))] = 0xff;
        break;
      default: // a few random bytes flipped
        b = base.slice();
        for (let n = 1 + int(4); n > 0; n--) b[int(b.length)] = int(256);
    }
    out.push(b);
  }
  return out;
}

/** CPU seconds (user + system) a process has used. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await Bun.file(`/proc/${pid}/stat`).text()).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function rssKb(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${pid}/status`).text());
  return Number(m?.[1] ?? 0);
}

describeWith(["binary"], "DHT fuzz: 100,000 hostile datagrams at a live node over UDP", () => {
  let dir: string;
  let proc: ReturnType<typeof Bun.spawn>;
  let port = 0;
  let pid = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "icon-dht-fuzz-"));
    proc = Bun.spawn([BINARY, "node", "start", "--data-dir", dir, "--listen", "127.0.0.1", "--dht-port", "0", "--peer-port", "0", "--log-level", "error", "--engine", "external"], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100 && !port; i++) {
      const s = await answer(nodeClient(dir).v1.status.$get()).catch(() => undefined);
      if (s) [port, pid] = [s.dhtPort, s.pid];
      else await Bun.sleep(100);
    }
    expect(port).toBeGreaterThan(0);
  }, 30_000);

  afterAll(async () => {
    proc?.kill("SIGTERM");
    await proc?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  test("it keeps answering, memory stays bounded, and the counters show the drops", async () => {
    // The prober speaks from 127.0.0.2: its own rate-limit bucket, not the flood's (127.0.0.1).
    const pongs = new Set<string>();
    const prober = await Bun.udpSocket({
      hostname: "127.0.0.2",
      socket: { data: (_s, data) => { try { const p = decode(data); if (p.body.type === MsgType.PONG) pongs.add(p.rid.join()); } catch {} } },
    });
    const me = generateIdentity();
    const alive = async () => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const rid = randomId().slice(0, 8);
        prober.send(encode({ flags: 0, rid, sender: me.nodeId, token: zeroToken(), body: { type: MsgType.PING }, padTo: 200 }), port, "127.0.0.1");
        await Bun.sleep(100);
        if (pongs.has(rid.join())) return true;
      }
      return false;
    };
    expect(await alive()).toBe(true);
    const rssBefore = await rssKb(pid);
    const cpuBefore = await cpuSeconds(pid);

    const senders = await Promise.all(Array.from({ length: 16 }, () => Bun.udpSocket({ hostname: "127.0.0.1", socket: { data: () => {} } })));
    const datagrams = mutants(2024, TOTAL);
    let answered = 0;
    let probes = 0;
    for (let i = 0; i < TOTAL; i++) {
      senders[i % senders.length]!.send(datagrams[i]!, port, "127.0.0.1");
      if (i % 200 === 199) await Bun.sleep(1); // paced so the kernel buffer holds most of them
      if (i % 10_000 === 9_999) {
        probes++;
        if (await alive()) answered++;
      }
    }
    await Bun.sleep(300);
    expect(answered).toBe(probes); // it answered throughout
    expect(await alive()).toBe(true);

    const s = await answer(nodeClient(dir).v1.status.$get());
    const d = s.dht.dropped;
    expect(s.dht.rx).toBeGreaterThan(TOTAL / 3); // the kernel may drop part of a burst before the node reads it
    expect(d.malformed!).toBeGreaterThan(TOTAL / 6);
    expect(d.oversized!).toBeGreaterThan(0);
    expect(d.unsolicited!).toBeGreaterThan(0); // replies nobody asked for
    expect(d.storeNoToken!).toBeGreaterThan(0); // STOREs that never showed an address token
    expect(s.dht.droppedTotal).toBeGreaterThan(TOTAL / 4);
    expect(s.dht.storedKeys).toBeLessThan(10);

    const rssAfter = await rssKb(pid);
    expect(rssAfter - rssBefore).toBeLessThan(100 * 1024);

    // And it still does its job.
    const put = Bun.spawnSync([BINARY, "dht", "put", "--data-dir", dir, "after-fuzz", "still here"], { stdout: "pipe", stderr: "pipe" });
    expect(put.exitCode).toBe(0);
    const got = Bun.spawnSync([BINARY, "dht", "get", "--data-dir", dir, "after-fuzz", "--json"], { stdout: "pipe", stderr: "pipe" });
    expect(JSON.parse(got.stdout.toString()).value).toBe("still here");
    for (const x of senders) x.close();
    prober.close();
    const cpu = (await cpuSeconds(pid)) - cpuBefore;
    process.stderr.write(`fuzz: rx ${s.dht.rx}, answered ${s.dht.requestsAnswered}, dropped ${JSON.stringify(d)}, RSS ${rssBefore} -> ${rssAfter} KB, node CPU ${cpu.toFixed(2)} s\n`);
  }, 120_000);
});
