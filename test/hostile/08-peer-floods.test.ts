/**
 * Finding 8: the peer port is easy to shut. The attacks, on loopback with real sockets (the attacker's
 * /24 is 127.0.5.0/24, the honest node's 127.0.0.0/24):
 * - many fresh node ids from one /24 open authenticated connections, and leave handshakes half-open,
 *   and hold them, to fill the connection table so that honest nodes are refused;
 * - the same from 20 /24s, enough to fill the whole table;
 * - fresh ids claim a victim's address as their endpoint, so that the target saves it and dials it;
 * - plain GETs flood the port before any handshake.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimEndpoints, floodPeerConnections, floodPeerInfo, victimListener } from "../../src/bench/hostile/peer-attacks.ts";
import { attackerDial } from "../../src/bench/hostile/peer-dial.ts";
import { generateIdentity } from "../../src/identity/identity.ts";
import { endpointOf, loopbackNetworks } from "../support/peers.ts";

const { network, stopAll } = loopbackNetworks();
afterEach(stopAll);
const attackerSubnet = Array.from({ length: 250 }, (_, i) => `127.0.5.${i + 1}`);

describe("finding 8: the peer port under floods", () => {
  test("a /24 holding connections and half-open handshakes from 900 fresh ids keeps no honest node from another /24 out", async () => {
    const [target, honest] = [await network(), await network()];
    target.handle("ping", async () => "pong");
    const halfOpen = await floodPeerConnections({ target: endpointOf(target), sources: attackerSubnet, connections: 300, halfOpen: true });
    const flood = await floodPeerConnections({ target: endpointOf(target), sources: attackerSubnet, connections: 600 });
    try {
      const conn = await honest.connect(endpointOf(target));
      expect(await conn.request("ping", null)).toBe("pong");
      expect(flood.report.outcome).not.toBe("succeeded");
      expect(halfOpen.report.outcome).not.toBe("succeeded");
      const { refused } = target.status();
      expect(refused.handshakeRate + refused.handshakesPerSubnet + refused.perSubnet).toBeGreaterThan(0);
    } finally {
      flood.release();
      halfOpen.release();
    }
  }, 60_000);

  test("20 /24s filling the whole connection table: a node from another /24 still gets in", async () => {
    const [target, honest] = [await network(), await network()];
    target.handle("ping", async () => "pong");
    const sources = Array.from({ length: 20 * 26 }, (_, i) => `127.0.${10 + (i % 20)}.${1 + Math.floor(i / 20)}`);
    const flood = await floodPeerConnections({ target: endpointOf(target), sources, connections: sources.length });
    try {
      expect(target.status().inbound).toBe(512);
      const conn = await honest.connect(endpointOf(target));
      expect(await conn.request("ping", null)).toBe("pong");
      expect(target.status().refused.evicted).toBeGreaterThan(0);
    } finally {
      flood.release();
    }
  }, 60_000);

  test("a handshake left half-open is closed when its time is up, and its place freed", async () => {
    const target = await network(undefined, undefined, { limits: { handshakeTimeoutMs: 200 } });
    const { ok, ws } = await attackerDial({ target: endpointOf(target), localAddress: "127.0.5.1", halfOpen: true });
    expect(ok).toBe(true);
    expect(target.status().inbound).toBe(1);
    await ws.closed;
    expect(target.status()).toMatchObject({ inbound: 0, refused: { handshakeTimeout: 1 } });
  });

  test("an endpoint a peer claims is neither saved nor dialled unless it answers as that node", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "icon-hostile-8-"));
    try {
      const victim = await victimListener("127.0.9.9");
      const identity = generateIdentity();
      const target = await network(identity, undefined, { dataDir });
      await claimEndpoints({ target: endpointOf(target), claim: victim.endpoint, ids: 5, localAddress: "127.0.5.1" });
      await target.stop();
      // The same node started again reads what it saved and dials it in the background.
      await network(identity, undefined, { dataDir });
      await Bun.sleep(300);
      expect(victim.dials()).toBe(0);
      victim.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("plain GETs to the peer port are rate-limited and learn no version", async () => {
    const target = await network();
    const r = await floodPeerInfo({ target: endpointOf(target), requests: 300 });
    expect(r.detail.limited).toBeGreaterThan(0);
    expect(r.detail.answered).toBeGreaterThan(0);
    expect(r.detail.version).toBe(false);
  });
});
