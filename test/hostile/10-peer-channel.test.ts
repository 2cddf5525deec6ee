/**
 * Finding 10: the peer channel in the clear. Two nodes on two testbed hosts, and between them a router
 * whose iptables REDIRECT hands the connection to an attacker's relay (src/bench/hostile/peer-on-path.ts),
 * which forwards it to the real node. The origin sends a replicate request carrying a secret env value.
 * - pass: the relay only reads. The secret (and the operation's name) must not appear in what it saw.
 * - flip: the relay flips one bit of the request's frame. The request must never reach the handler.
 * - inject: the relay slips in a request frame of its own. It must never reach the handler.
 * And on loopback: a recorded handshake replayed to the same node cannot finish.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { address, down, inHost, up } from "../../src/testbed/index.ts";
import type { NetworkSpec, TestbedStatus } from "../../src/testbed/index.ts";
import type { PeerEndpoint } from "../../src/peer/network.ts";
import { describeWith } from "../support/needs.ts";
import { lineProcess } from "./support/lines.ts";
import { readWebSocketStream } from "../../src/bench/hostile/peer-on-path.ts";
import { openRawWebSocket } from "../../src/bench/hostile/raw-websocket.ts";
import { generateIdentity } from "../../src/identity/identity.ts";
import { LocalPeer, NOISE_HEADER } from "../../src/peer/auth.ts";
import { WS_PATH } from "../../src/peer/protocol.ts";
import { connectionAt, endpointOf, loopbackNetworks } from "../support/peers.ts";

const NAME = "t-hostile10";
const PEER_PORT = 4101;
const RELAY_PORT = 4999;
const topology: NetworkSpec = {
  source: "hostile-10",
  hosts: [{ name: "IEP1" }, { name: "IEP2" }],
  routers: [{ name: "r1" }],
  links: [{ a: "IEP1", b: "r1", delayMs: 1 }, { a: "r1", b: "IEP2", delayMs: 1 }],
};
const here = (f: string) => join(import.meta.dir, "support", f);
type Answer<T = unknown> = { ok: boolean; body: T; error?: string };

describe("finding 10 on loopback: a recorded handshake", () => {
  const { network, stopAll } = loopbackNetworks();
  afterAll(stopAll);

  test("replayed to the node it was meant for, cannot finish: the node's new ephemeral key does not match", async () => {
    const target = await network();
    const to = endpointOf(target);
    const client = new LocalPeer(generateIdentity(), "recorded");
    const { header, hs } = client.dial(target.nodeId);
    const upgrade = { host: to.address, port: to.port, path: WS_PATH, headers: { [NOISE_HEADER]: header } };
    const first = await openRawWebSocket(upgrade);
    const { message3 } = client.finishDial(hs, (await first.next())!.data, target.nodeId, "");
    first.send(message3);
    await connectionAt(target, client.nodeId);
    first.close();

    const replay = await openRawWebSocket(upgrade);
    expect(replay.status).toBe(101); // message 1 holds nothing secret; the node answers with a fresh key
    await replay.next();
    replay.send(message3);
    await replay.closed;
    expect(target.status().refused.badHandshake).toBe(1);
  });
});

describeWith(["root"], "finding 10: an attacker on the path between two nodes", () => {
  let st: TestbedStatus;
  const sh = (argv: string[]) => {
    const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
  };

  beforeAll(async () => {
    await down(NAME);
    st = await up({ name: NAME, topology, docker: false });
    sh(inHost(st, "r1", ["iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-p", "tcp", "-d", address(st, "IEP2"), "--dport", String(PEER_PORT), "-j", "REDIRECT", "--to-ports", String(RELAY_PORT)]));
  }, 120_000);
  afterAll(async () => {
    await down(NAME);
  }, 120_000);

  /** Both nodes and the relay fresh; the origin dials, waits, then sends one replicate request. */
  async function attempt(mode: "pass" | "flip" | "inject", secret: string) {
    const dump = `/tmp/icon-hostile10-${mode}-${process.pid}.bin`;
    const node = (host: string) => lineProcess(inHost(st, host, [process.execPath, here("peer-node.ts"), JSON.stringify({ listen: address(st, host), port: PEER_PORT })]));
    const injected = JSON.stringify({ t: "req", id: 4242, op: "replicate", body: { icon: "injected", env: ["INJECTED=1"] } });
    const relay = lineProcess(inHost(st, "r1", [process.execPath, here("on-path-relay.ts"), JSON.stringify({ listenPort: RELAY_PORT, to: { address: address(st, "IEP2"), port: PEER_PORT }, mode, dump, injected })]));
    const [origin, edge] = [node("IEP1"), node("IEP2")];
    try {
      await relay.read();
      const edgeId = ((await edge.read()) as Answer<{ nodeId: string }>).body.nodeId;
      await origin.read();
      const to: PeerEndpoint = { nodeId: edgeId, address: address(st, "IEP2"), port: PEER_PORT };
      const dialled = await origin.ask<Answer>({ dial: to });
      expect(dialled.ok).toBe(true);
      await Bun.sleep(600); // quiet: the relay tampers with the next frame, the request
      const answer = await origin.ask<Answer>({ request: { to, op: "replicate", body: { icon: "shop", image: { ref: "shop:1" }, env: [`SHOP_TOKEN=${secret}`] } } });
      const seen = (await edge.ask<Answer<{ icon: string; env: string[] }[]>>({ seen: true })).body;
      const stillConnected = (await origin.ask<Answer<boolean>>({ connected: edgeId })).body;
      // What a passive reader gets: headers, and every frame's payload unmasked, both ways.
      const streams = ["to-server", "to-client"].map((d) => readWebSocketStream(readFileSync(`${dump}.${d}`)));
      return { answer, seen, stillConnected, relayed: Buffer.concat(streams.flatMap((s) => [Buffer.from(s.head), ...s.payloads])) };
    } finally {
      await Promise.all([origin.stop(), edge.stop(), relay.stop()]);
      for (const d of ["to-server", "to-client"]) rmSync(`${dump}.${d}`, { force: true });
    }
  }

  test("a passive reader on the path sees neither the env nor the operation", async () => {
    const secret = randomBytes(12).toString("hex");
    const { answer, seen, relayed, stillConnected } = await attempt("pass", secret);
    expect(stillConnected).toBe(true);
    expect(answer).toMatchObject({ ok: true, body: { accepted: true } });
    expect(seen.map((b) => b.env)).toEqual([[`SHOP_TOKEN=${secret}`]]); // the request went through the relay
    expect(relayed.length).toBeGreaterThan(500);
    expect(relayed.includes(secret)).toBe(false);
    expect(relayed.includes("replicate")).toBe(false);
  }, 60_000);

  const tampering = { flip: "one bit flipped in the request", inject: "a request frame injected on the path" } as const;
  for (const [mode, what] of Object.entries(tampering) as ["flip" | "inject", string][]) {
    test(`${what} breaks the connection; no request is served`, async () => {
      const { answer, seen, stillConnected } = await attempt(mode, randomBytes(12).toString("hex"));
      expect(answer.ok).toBe(false);
      expect(seen).toEqual([]);
      expect(stillConnected).toBe(false);
    }, 60_000);
  }
});
