/**
 * The thesis testbed for real (root): routing, hop addresses, RTTs, bandwidth, loss, the CLI contract,
 * crash recovery and a clean teardown. Tolerances are loose enough for a loaded 2-core machine and tight
 * enough to catch a missing or doubled link delay (the smallest link that changes a tested RTT is 0.5 ms
 * one way, i.e. 1 ms of RTT; a missing r2-r3 link delay would move UD-IEP2 by 10 ms).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { thesisTopology } from "../src/testbed/builtin.ts";
import { isDelayd } from "../src/testbed/delayd-process.ts";
import { down, up } from "../src/testbed/lifecycle.ts";
import { statePath } from "../src/testbed/names.ts";
import { pingMatrix } from "../src/testbed/ping.ts";
import { parseTopology, withLoss } from "../src/testbed/topology.ts";
import type { TestbedStatus } from "../src/testbed/state.ts";
import { describeWith, rttShowsDelay } from "./support/needs.ts";
import { CLI, sh, cli } from "./support/run.ts";

const NAME = "tbtest";
const inNs = (netns: string, cmd: string[]) => sh(["ip", "netns", "exec", netns, ...cmd]);
const mangleRoot = () => sh(["iptables", "-t", "mangle", "-S"]).stdout.toString();
const namespacesOf = (name: string) => sh(["ip", "netns", "list"]).stdout.toString().split("\n").map((l) => l.split(" ")[0]!).filter((n) => n.startsWith(`${name}-`));

/** Sends as fast as TCP allows from `from` to `to` for `seconds`; returns the receiver's Mbit/s. */
async function bulkMbit(st: TestbedStatus, from: string, to: string, seconds: number): Promise<number> {
  const host = (n: string) => st.hosts.find((h) => h.name === n)!;
  const server = Bun.spawn(["ip", "netns", "exec", host(to).netns, process.execPath, "-e", `
    let bytes = 0, t0 = 0, t1 = 0;
    require("node:net").createServer((c) => {
      c.on("data", (d) => { const now = performance.now(); if (!t0) t0 = now; bytes += d.length; t1 = now; });
      c.on("end", () => { console.log(JSON.stringify({ bytes, ms: t1 - t0 })); process.exit(0); });
    }).listen(5001, "0.0.0.0", () => console.log("listening"));`], { stdout: "pipe" });
  const reader = server.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  expect(first).toContain("listening");
  const client = Bun.spawn(["ip", "netns", "exec", host(from).netns, process.execPath, "-e", `
    const s = require("node:net").connect(5001, "${host(to).address}");
    const chunk = Buffer.alloc(65536), end = performance.now() + ${seconds * 1000};
    const pump = () => { while (performance.now() < end) if (!s.write(chunk)) return s.once("drain", pump); s.end(); };
    s.on("connect", pump);`]);
  await client.exited;
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const { bytes, ms } = JSON.parse(text) as { bytes: number; ms: number };
  return (bytes * 8) / (ms * 1000);
}

describeWith(["root"], "testbed: thesis topology", () => {
  let st: TestbedStatus;
  const mangleBefore = mangleRoot();
  beforeAll(async () => {
    await down(NAME);
    st = await up({ name: NAME, topology: thesisTopology(), docker: false });
  });
  afterAll(async () => {
    await down(NAME);
  });

  test("a traceroute UD→IEP1 sees seven hops, each router's ingress address inside its /29", () => {
    const r = inNs(`${NAME}-UD`, ["traceroute", "-n", "-q", "1", "-w", "2", "-m", "12", "10.1.2.10"]);
    expect(r.exitCode).toBe(0);
    const hops = r.stdout.toString().split("\n").slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)[1]);
    const path = ["UD", "r1", "r2", "r4", "r5", "r6", "r7", "IEP1"];
    const ingress = path.slice(1).map((n, i) => {
      const l = st.links.find((l) => (l.a === path[i] && l.b === n) || (l.b === path[i] && l.a === n))!;
      return l.a === n ? l.aAddress : l.bAddress;
    });
    expect(hops).toEqual(ingress);
    expect(hops.at(-1)).toBe(st.hosts.find((h) => h.name === "IEP1")!.address);
    for (const [i, n] of path.slice(1, -1).entries()) {
      const block = st.routers.find((r) => r.name === n)!.block!.split("/")[0]!.split(".").map(Number);
      const hop = hops[i]!.split(".").map(Number);
      expect(hop.slice(0, 3)).toEqual(block.slice(0, 3));
      expect(hop[3]! & ~7).toBe(block[3]!);
    }
  });

  test("RTTs between hosts match the topology: 92, 14, 102 ms", async () => {
    const results = await pingMatrix(st, thesisTopology(), { count: 60, interval: 0.01 });
    expect(results.map((r) => r.targetMs).sort((a, b) => a - b)).toEqual([14, 92, 102]);
    for (const r of results) {
      expect(r.received).toBe(r.sent);
      // The median, not the mean: a loaded machine delays a few pings by tens of ms in ping itself.
      expect({ pair: `${r.from}-${r.to}`, median: r.medianMs, ok: rttShowsDelay(r.medianMs!, r.targetMs) }).toMatchObject({ ok: true });
    }
  });

  test("the 10 Mbit/s core link limits a bulk transfer", async () => {
    const mbit = await bulkMbit(st, "UD", "IEP1", 3);
    expect(mbit).toBeGreaterThan(5);
    expect(mbit).toBeLessThan(15);
  }, 20_000);

  test("status --json is the contract; exec passes the exit status through", () => {
    const s = JSON.parse(cli("testbed", "status", "--name", NAME, "--json").stdout.toString()) as TestbedStatus;
    expect(s.name).toBe(NAME);
    expect(s.hosts.map((h) => [h.name, h.netns])).toEqual([["UD", `${NAME}-UD`], ["IEP1", `${NAME}-IEP1`], ["IEP2", `${NAME}-IEP2`]]);
    expect(s.routers).toHaveLength(7);
    expect(s.links.find((l) => l.a === "r5")).toMatchObject({ b: "r6", delayMs: 20, rateMbit: 10, loss: 0 });
    expect(s.delayd).toBe("running");
    expect(isDelayd(s.delayPid!, NAME)).toBe(true);
    expect(cli("testbed", "exec", "--name", NAME, "IEP2", "--", "sh", "-c", "exit 7").exitCode).toBe(7);
    const addr = cli("testbed", "exec", "--name", NAME, "IEP2", "--", "ip", "-br", "addr", "show", "eth0").stdout.toString();
    expect(addr).toContain(s.hosts[2]!.address);
    expect(cli("testbed", "exec", "--name", NAME, "nope", "--", "true").exitCode).toBe(1);
  });

  test("up again is a no-op; a dead delay process fails closed, shows in status, and up repairs it", async () => {
    const again = await up({ name: NAME, topology: thesisTopology(), docker: false });
    expect(again.delayPid).toBe(st.delayPid);
    process.kill(st.delayPid!, "SIGKILL");
    await Bun.sleep(100);
    const dead = cli("testbed", "status", "--name", NAME, "--json");
    expect(JSON.parse(dead.stdout.toString()).delayd).toBe("dead");
    expect(dead.exitCode).not.toBe(0);
    const lost = inNs(`${NAME}-UD`, ["ping", "-n", "-q", "-c", "3", "-i", "0.05", "-W", "1", "10.1.3.10"]).stdout.toString();
    expect(lost).toContain(" 0 received");
    st = await up({ name: NAME, topology: thesisTopology(), docker: false });
    expect(st.delayPid).not.toBe(again.delayPid);
    expect(inNs(`${NAME}-UD`, ["ping", "-n", "-q", "-c", "2", "-i", "0.05", "10.1.3.10"]).exitCode).toBe(0);
  });

  test("down removes namespaces, delay process, state and nothing else; twice is fine", async () => {
    const pid = st.delayPid!;
    await down(NAME);
    expect(namespacesOf(NAME)).toEqual([]);
    expect(existsSync(statePath(NAME))).toBe(false);
    expect(isDelayd(pid, NAME)).toBe(false);
    expect(mangleRoot()).toBe(mangleBefore);
    const again = cli("testbed", "down", "--name", NAME, "--json");
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout.toString()).removed.namespaces).toEqual([]);
  });
});

describeWith(["root"], "testbed: loss and crashes", () => {
  const LOSSY = "tblossy";
  afterAll(async () => {
    await down(LOSSY);
  });

  test("--loss drops packets on every link direction", async () => {
    const file = join(tmpdir(), `icon-tb-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ hosts: ["A", "B"], routers: ["r"], links: [{ a: "A", b: "r", delayMs: 1 }, { a: "r", b: "B", delayMs: 1 }] }));
    const topology = withLoss(parseTopology(JSON.parse(await Bun.file(file).text()), file), 0.2);
    const st = await up({ name: LOSSY, topology, docker: false });
    const [r] = await pingMatrix(st, topology, { count: 200, interval: 0.004 });
    // Four lossy passes per round trip: 1 - 0.8^4 = 59 % expected.
    const loss = 1 - r!.received / r!.sent;
    expect(loss).toBeGreaterThan(0.4);
    expect(loss).toBeLessThan(0.78);
    expect(rttShowsDelay(r!.medianMs!, r!.targetMs)).toBe(true);
  });

  test("down after `up` was killed halfway leaves nothing", async () => {
    await down(LOSSY);
    const proc = Bun.spawn([...CLI, "testbed", "up", "--name", LOSSY, "--topology", "random", "--seed", "2"], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 500 && namespacesOf(LOSSY).length < 3; i++) await Bun.sleep(5);
    proc.kill("SIGKILL");
    await proc.exited;
    expect(existsSync(statePath(LOSSY))).toBe(true);
    const r = cli("testbed", "down", "--name", LOSSY);
    expect(r.exitCode).toBe(0);
    expect(namespacesOf(LOSSY)).toEqual([]);
    expect(existsSync(statePath(LOSSY))).toBe(false);
  });

  test("two testbeds coexist (same node names, same queue numbers) and come down separately", async () => {
    const tiny = parseTopology({ hosts: ["A", "B"], routers: ["r"], links: [{ a: "A", b: "r", delayMs: 2 }, { a: "r", b: "B", delayMs: 3 }] }, "tiny");
    const [one, two] = await Promise.all([up({ name: "tbco1", topology: tiny, docker: false }), up({ name: "tbco2", topology: tiny, docker: false })]);
    try {
      expect(one.delayPid).not.toBe(two.delayPid);
      for (const st of [one, two]) {
        const [r] = await pingMatrix(st, tiny, { count: 5, interval: 0.02 });
        expect(r!.received).toBe(5);
        expect(rttShowsDelay(r!.medianMs!, 10)).toBe(true);
      }
      await down("tbco1");
      expect(namespacesOf("tbco1")).toEqual([]);
      expect(namespacesOf("tbco2")).toHaveLength(3);
      const [r] = await pingMatrix(two, tiny, { count: 3, interval: 0.02 });
      expect(r!.received).toBe(3);
    } finally {
      await Promise.all([down("tbco1"), down("tbco2")]);
    }
  });

  test("a non-root user gets a clear error", () => {
    const r = sh(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...CLI, "testbed", "up", "--name", "tbnobody"]);
    expect(r.stderr.toString()).toContain("needs root");
    expect(r.exitCode).toBe(9);
  });
});
