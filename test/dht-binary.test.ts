/**
 * The DHT through the compiled binary: 13 real `icon node start` processes on 127.0.0.1, each with its own
 * data dir and UDP port (port 0: the kernel picks), bootstrapped from the first. A value put through one
 * node's CLI is read through every node's CLI; a node killed with SIGKILL comes back from its saved state
 * alone (no --bootstrap) and takes part again.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answer, nodeClient } from "../src/api/client.ts";
import { BINARY, describeWith } from "./support/needs.ts";

const N = 13;

interface Proc {
  dir: string;
  proc: ReturnType<typeof Bun.spawn>;
}

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync([BINARY, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function status(dir: string) {
  return answer(nodeClient(dir).v1.status.$get()).catch(() => undefined);
}
type Status = NonNullable<Awaited<ReturnType<typeof status>>>;

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describeWith(["binary"], "DHT with the compiled binary: 13 nodes on loopback", () => {
  let base: string;
  const nodes: Proc[] = [];

  function start(dir: string, bootstrap?: number): Proc {
    const args = [BINARY, "node", "start", "--data-dir", dir, "--listen", "127.0.0.1", "--dht-port", "0", "--peer-port", "0", "--log-level", "warn", "--engine", "external"];
    if (bootstrap) args.push("--bootstrap", `127.0.0.1:${bootstrap}`);
    return { dir, proc: Bun.spawn(args, { stdout: "ignore", stderr: "ignore" }) };
  }

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), "icon-dht-bin-"));
    nodes.push(start(join(base, "n0")));
    const first = await until("node 0", () => status(nodes[0]!.dir));
    for (let i = 1; i < N; i++) nodes.push(start(join(base, `n${i}`), first.dhtPort));
    // Everyone knows everyone (13 nodes fit the k=20 buckets).
    await until("all nodes to know each other", async () => {
      const all = await Promise.all(nodes.map((n) => status(n.dir)));
      return all.every((s) => s && s.dht.peers >= N - 1);
    }, 30_000);
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) n.proc.kill("SIGTERM");
    await Promise.all(nodes.map((n) => n.proc.exited));
    await rm(base, { recursive: true, force: true });
  });

  test("status reports identity, the bound port and the DHT's counters", async () => {
    // Counters count: a malformed datagram and an oversized one sent to node 3 show up by reason.
    const target = (await status(nodes[3]!.dir))!;
    const sock = await Bun.udpSocket({ hostname: "127.0.0.1" });
    sock.send(new Uint8Array([0xc1, 0x63, 0, 1, 2, 3]), target.dhtPort, "127.0.0.1"); // unknown message type
    sock.send(new Uint8Array(1300).fill(0xc1), target.dhtPort, "127.0.0.1");
    const after = await until("node 3 to count both datagrams", async () => {
      const s = await status(nodes[3]!.dir);
      return s && s.dht.dropped.malformed > target.dht.dropped.malformed && s.dht.dropped.oversized > target.dht.dropped.oversized ? s : undefined;
    });
    sock.close();
    expect(after.dht.dropped.malformed).toBe(target.dht.dropped.malformed + 1);
    expect(after.dht.dropped.oversized).toBe(target.dht.dropped.oversized + 1);
    expect(after.dht.droppedTotal).toBeGreaterThanOrEqual(target.dht.droppedTotal + 2);
    const ports = new Set<number>();
    for (const n of nodes) {
      const s = JSON.parse(cli("node", "status", "--data-dir", n.dir, "--json").stdout) as Status;
      expect(s.nodeId).toMatch(/^[0-9a-f]{40}$/);
      expect(s.address).toBe("127.0.0.1");
      expect(s.dhtPort).toBeGreaterThan(0); // 0 was asked: the real port is reported
      expect(s.peerPort).toBeGreaterThan(0);
      expect(s.dht.peers).toBeGreaterThanOrEqual(N - 1);
      expect(typeof s.dht.storedKeys).toBe("number");
      expect(typeof s.version).toBe("string");
      ports.add(s.dhtPort);
    }
    expect(ports.size).toBe(N);
  });

  /** A node's id, for --publisher. */
  const idOf = (n: Proc) => (JSON.parse(cli("node", "status", "--data-dir", n.dir, "--json").stdout) as Status).nodeId;

  test("put through one node, get through every node", () => {
    const put = cli("dht", "put", "--data-dir", nodes[4]!.dir, "greeting", "hello from node 4");
    expect(put.code).toBe(0);
    expect(put.stdout).toContain("closest nodes");
    const publisher = idOf(nodes[4]!);
    for (const n of nodes) {
      const got = cli("dht", "get", "--data-dir", n.dir, "greeting", "--publisher", publisher, "--json");
      expect(got.code).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({ key: "greeting", value: "hello from node 4", publisher });
    }
    const missing = cli("dht", "get", "--data-dir", nodes[2]!.dir, "no-such-key");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no value under key "no-such-key"');
    expect(missing.stderr).toContain("fix:");
  });

  test("peers lists the routing table", () => {
    const r = cli("dht", "peers", "--data-dir", nodes[5]!.dir, "--json");
    expect(r.code).toBe(0);
    const peers = JSON.parse(r.stdout) as { id: string; address: string; port: number }[];
    expect(peers.length).toBeGreaterThanOrEqual(N - 1);
    expect(peers.every((p) => p.address === "127.0.0.1" && p.port > 0)).toBe(true);
  });

  test("a node killed with SIGKILL rejoins from its saved state, without --bootstrap", async () => {
    const victim = nodes[7]!;
    const before = (await status(victim.dir))!;
    await until("the state file", async () => (await Bun.file(join(victim.dir, "dht.json")).exists()) && (await Bun.file(join(victim.dir, "dht.json")).json()).contacts.length >= 5);
    victim.proc.kill("SIGKILL");
    await victim.proc.exited;
    const again = start(victim.dir); // no --bootstrap
    nodes[7] = again;
    const after = await until("the restarted node to rejoin", async () => {
      const s = await status(victim.dir);
      return s && s.dht.peers >= N - 1 ? s : undefined;
    });
    expect(after.nodeId).toBe(before.nodeId);
    expect(after.pid).not.toBe(before.pid);
    expect(after.dhtPort).toBe(before.dhtPort); // asked for 0, it took back the port its neighbours know
    // It reads the network's values and its writes reach the others.
    const got = cli("dht", "get", "--data-dir", victim.dir, "greeting", "--publisher", idOf(nodes[4]!), "--json");
    expect(JSON.parse(got.stdout).value).toBe("hello from node 4");
    expect(cli("dht", "put", "--data-dir", victim.dir, "back", "node 7 is back").code).toBe(0);
    const seen = cli("dht", "get", "--data-dir", nodes[0]!.dir, "back", "--publisher", after.nodeId, "--json");
    expect(JSON.parse(seen.stdout).value).toBe("node 7 is back");
  }, 60_000);
});
