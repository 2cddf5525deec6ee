/**
 * `icon bench dht-live`: N real `icon node start` processes on loopback, with a fraction of their UDP
 * datagrams dropped by the kernel, timed through each node's local API: puts (until a quorum of the
 * closest nodes acknowledged, and until every one answered) and gets (from another node than the
 * publisher; one counts only when it brings back the value put).
 *
 * Node i listens on 127.77.i.1, so each node has a /24 of its own: the DHT's limits per /24 (external
 * address votes, store shares; issue 12) would otherwise lump all honest nodes together as one source.
 * Loss is one iptables rule on the loopback for UDP between 127.77.0.0/16 addresses only
 * (`-m statistic --mode random --probability P -j DROP` in OUTPUT, which every datagram crosses once):
 * nothing else on the machine is touched, and the rule goes when the benchmark ends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { answer, nodeAnswers, nodeClient, readStream, type NodeClient } from "../api/client.ts";
import { IconError } from "../errors.ts";
import { run } from "../util/command.ts";
import { must } from "../testbed/shell.ts";
import { selfCommand } from "../testbed/self.ts";
import { pick, seededRandom } from "../util/random.ts";
import { spread, type Spread } from "./dht.ts";

const PREFIX = "127.77";
const CHAIN = "icon-dht-live";
const MATCH = ["-o", "lo", "-p", "udp", "-s", `${PREFIX}.0.0/16`, "-d", `${PREFIX}.0.0/16`];

export interface LiveOptions {
  nodes: number;
  loss: number;
  puts: number;
  gets: number;
  seed?: number;
  progress: (human: string) => void;
}

export interface LiveReport {
  nodes: number;
  loss: number;
  addresses: string;
  /** Until every node knew min(k, N - 1) peers, from the first start. */
  joinMs: number;
  /** Each node's smoothed RTT to its peers after the join (ms, all pairs). */
  peerRttMs: Spread;
  /** Each node's retransmission timeout for its median contact, after the join and after the puts and gets. */
  rtoMs: { joined: Spread; end: Spread };
  puts: {
    n: number;
    /** Until the put returned (a quorum of the closest acknowledged), timed by the client. */
    quorumMs: Spread;
    /** Until every closest node answered or gave up (the node's own figure). */
    completeMs: Spread;
    /** The lookup of the closest nodes that starts each put (the node's own figure). */
    lookupMs: Spread;
    failed: number;
    medianReplicas: number;
  };
  gets: { n: number; ms: Spread; ok: number };
  /** Every put and get in the order they ran (ms; NaN where a put failed). */
  samples: { puts: { quorumMs: number; completeMs: number; lookupMs: number }[]; gets: { ms: number; ok: boolean }[] };
  loadavg: number[];
  seed: number;
}

interface LiveNode {
  address: string;
  dataDir: string;
  api: NodeClient;
  proc: ReturnType<typeof Bun.spawn>;
}

export async function benchDhtLive(o: LiveOptions): Promise<LiveReport> {
  if (process.getuid?.() !== 0) throw new IconError("PERMISSION", "icon bench dht-live needs root (it drops datagrams with iptables)", "Run it as root.");
  if (o.nodes < 2 || o.nodes > 250) throw new IconError("USAGE", `--nodes ${o.nodes}: expected 2 to 250`, "Give --nodes 2 to 250.");
  const seed = o.seed ?? 1;
  const random = seededRandom(seed);
  const root = mkdtempSync(join(tmpdir(), "icon-dht-live-"));
  const nodes: LiveNode[] = [];
  const load0 = loadavg();
  await removeLoss();
  try {
    if (o.loss > 0) await addLoss(o.loss);
    o.progress(`starting ${o.nodes} nodes on ${PREFIX}.1-${o.nodes}.1, ${o.loss * 100}% of their datagrams dropped`);
    const t0 = performance.now();
    nodes.push(await startNode(root, 1));
    const first = await answer(nodes[0]!.api.v1.status.$get());
    nodes.push(...(await Promise.all(Array.from({ length: o.nodes - 1 }, (_, i) => startNode(root, i + 2, `${nodes[0]!.address}:${first.dhtPort}`)))));
    const want = Math.min(20, o.nodes - 1);
    await until(`every node to know ${want} peers`, async () => (await Promise.all(nodes.map((n) => peersOf(n)))).every((p) => p >= want), 120_000);
    const joinMs = performance.now() - t0;
    const peerRtts = (await Promise.all(nodes.map((n) => answer(n.api.v1.dht.peers.$get())))).flat().flatMap((p) => (p.rttMs === undefined ? [] : [p.rttMs]));
    const rtos = async () => spread((await Promise.all(nodes.map((n) => answer(n.api.v1.status.$get())))).flatMap((s) => (s.dht.rtoMs === undefined ? [] : [s.dht.rtoMs])));
    const rtoJoined = await rtos();

    o.progress(`${o.puts} puts from random nodes`);
    const puts: { quorumMs: number; completeMs: number; lookupMs: number; replicas: number; ok: boolean; key: string; node: LiveNode; value: string }[] = [];
    for (let i = 0; i < o.puts; i++) {
      const node = pick(nodes, random);
      const key = `live-${i}`;
      const value = `value ${i} from ${node.address}`;
      const t = performance.now();
      let quorumMs = NaN, lookupMs = NaN;
      try {
        const r = await readStream(node.api.v1.dht.put.$post({ json: { key, value, wait: "all" } }), (e) => {
          if (e.type === "quorum") quorumMs = performance.now() - t;
          if (e.type === "lookup-done") lookupMs = e.ms;
        });
        puts.push({ quorumMs, completeMs: r.complete?.ms ?? NaN, lookupMs, replicas: r.complete?.replicas ?? r.replicas, ok: true, key, node, value });
      } catch {
        puts.push({ quorumMs, completeMs: NaN, lookupMs, replicas: 0, ok: false, key, node, value });
      }
    }
    const stored = puts.filter((p) => p.ok);
    const publishers = new Map(await Promise.all(nodes.map(async (n) => [n, (await answer(n.api.v1.status.$get())).nodeId] as const)));

    o.progress(`${o.gets} gets from random other nodes`);
    const gets: { ms: number; ok: boolean }[] = [];
    for (let i = 0; i < o.gets && stored.length; i++) {
      const p = pick(stored, random);
      const from = pick(nodes.filter((n) => n !== p.node), random);
      const t = performance.now();
      const got = await readStream(from.api.v1.dht.get.$post({ json: { key: p.key, publisher: publishers.get(p.node)! } })).catch(() => undefined);
      gets.push({ ms: performance.now() - t, ok: got?.value === p.value });
    }
    const rtoEnd = await rtos();
    return {
      nodes: o.nodes,
      loss: o.loss,
      addresses: `${PREFIX}.1.1 - ${PREFIX}.${o.nodes}.1, one /24 each`,
      joinMs: Math.round(joinMs),
      peerRttMs: spread(peerRtts),
      rtoMs: { joined: rtoJoined, end: rtoEnd },
      puts: {
        n: puts.length,
        quorumMs: spread(stored.map((p) => p.quorumMs)),
        completeMs: spread(stored.map((p) => p.completeMs)),
        lookupMs: spread(stored.map((p) => p.lookupMs)),
        failed: puts.length - stored.length,
        medianReplicas: spread(stored.map((p) => p.replicas)).median,
      },
      gets: { n: gets.length, ms: spread(gets.filter((g) => g.ok).map((g) => g.ms)), ok: gets.filter((g) => g.ok).length },
      samples: { puts: puts.map((p) => ({ quorumMs: round(p.quorumMs), completeMs: round(p.completeMs), lookupMs: round(p.lookupMs) })), gets: gets.map((g) => ({ ms: round(g.ms), ok: g.ok })) },
      loadavg: load0.map((v, i) => Math.round(Math.max(v, loadavg()[i]!) * 100) / 100),
      seed,
    };
  } finally {
    await Promise.all(nodes.map(stopNode));
    await removeLoss();
    rmSync(root, { recursive: true, force: true });
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

async function startNode(root: string, i: number, bootstrap?: string): Promise<LiveNode> {
  const address = `${PREFIX}.${i}.1`;
  const dataDir = join(root, `n${i}`);
  const args = ["node", "start", "--data-dir", dataDir, "--listen", address, "--dht-port", "0", "--peer-port", "0", "--log-level", "warn"];
  if (bootstrap) args.push("--bootstrap", bootstrap);
  const proc = Bun.spawn(selfCommand(args), { stdout: "ignore", stderr: "ignore" });
  const node = { address, dataDir, api: nodeClient(dataDir), proc };
  await until(`node ${address} to answer`, async () => proc.exitCode === null && (await nodeAnswers(dataDir)), 30_000);
  return node;
}

async function stopNode(n: LiveNode): Promise<void> {
  n.proc.kill("SIGTERM");
  const exited = await Promise.race([n.proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
  if (!exited) n.proc.kill("SIGKILL");
}

function peersOf(n: LiveNode): Promise<number> {
  return answer(n.api.v1.status.$get()).then((s) => s.dht.peers, () => 0);
}

async function until(what: string, f: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new IconError("TIMEOUT", `timed out waiting for ${what}`, "Check the machine's load; run with fewer --nodes.");
    await Bun.sleep(200);
  }
}

async function addLoss(p: number): Promise<void> {
  await must(["iptables", "-w", "-N", CHAIN], "creating the loss chain");
  await must(["iptables", "-w", "-A", CHAIN, "-m", "statistic", "--mode", "random", "--probability", String(p), "-j", "DROP"], "adding the loss rule");
  await must(["iptables", "-w", "-I", "OUTPUT", ...MATCH, "-j", CHAIN], "hooking the loss chain");
}

/** Removes the loss rule and chain, also those a crashed earlier run left. */
async function removeLoss(): Promise<void> {
  while ((await run(["iptables", "-w", "-D", "OUTPUT", ...MATCH, "-j", CHAIN])).code === 0);
  await run(["iptables", "-w", "-F", CHAIN]);
  await run(["iptables", "-w", "-X", CHAIN]);
}
