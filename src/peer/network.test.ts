import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "../identity/identity.ts";
import { LocalPeer, NOISE_HEADER } from "./auth.ts";
import { WS_PATH } from "./protocol.ts";
import { connectionAt, endpointOf, loopbackNetworks } from "../../test/support/peers.ts";
import { toHex } from "../util/hex.ts";

const { network, stopAll } = loopbackNetworks();
afterEach(stopAll);

describe("peer network", () => {
  test("requests, progress events, bulk data and messages travel both ways on one connection", async () => {
    const [a, b] = [await network(), await network()];
    b.handle("echo", async (body, ctx) => {
      ctx.emit({ step: 1 });
      await ctx.sendData(new Uint8Array(600_000).fill(7)); // more than two chunks
      return { echoed: body, from: ctx.peer.nodeId };
    });
    const events: unknown[] = [];
    let bytes = 0;
    const conn = await a.connect(endpointOf(b));
    const res = await conn.request<{ echoed: unknown; from: string }>("echo", { x: 1 }, { onEvent: (e) => events.push(e), onData: (d) => (bytes += d.length) });
    expect(res).toEqual({ echoed: { x: 1 }, from: a.nodeId });
    expect(events).toEqual([{ step: 1 }]);
    expect(bytes).toBe(600_000);

    // The accepting side uses the same connection to reach back, without dialling.
    a.handle("who", async (_b, ctx) => ctx.peer.nodeId);
    const back = await connectionAt(b, a.nodeId);
    expect(back?.direction).toBe("in");
    expect(await back!.request("who", null)).toBe(b.nodeId);

    const got = new Promise((r) => b.onMessage("note", (body) => r(body)));
    conn.notify("note", { hello: true });
    expect(await got).toEqual({ hello: true });
    expect(await a.connect(endpointOf(b))).toBe(conn);
  });

  test("a request can carry an attachment in the same frame", async () => {
    const [a, b] = [await network(), await network()];
    b.handle("sum", async (body, ctx) => ({ n: (body as { n: number }).n, sum: ctx.attachment?.reduce((x, y) => x + y, 0) ?? -1 }));
    const conn = await a.connect(endpointOf(b));
    expect(await conn.request("sum", { n: 3 }, { attachment: new Uint8Array([1, 2, 3, 250]) })).toEqual({ n: 3, sum: 256 });
    expect(await conn.request("sum", { n: 0 })).toEqual({ n: 0, sum: -1 });
  });

  test("errors travel as IconErrors with their code", async () => {
    const [a, b] = [await network(), await network()];
    const conn = await a.connect(endpointOf(b));
    await expect(conn.request("nope", {})).rejects.toMatchObject({ code: "NOT_FOUND" });
    b.handle("fail", async () => {
      throw new (await import("../errors.ts")).IconError("CONFLICT", "busy", "later");
    });
    await expect(conn.request("fail", {})).rejects.toMatchObject({ code: "CONFLICT", message: "busy", fix: "later" });
  });

  test("handshakes without a Noise message, addressed to another node or garbled are refused before the upgrade", async () => {
    const [a, b] = [await network(), await network()];
    const url = `http://127.0.0.1:${b.port}${WS_PATH}`;
    const upgrade = { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };
    const refusal = async (headers: Record<string, string>) => {
      const r = await fetch(url, { headers: { ...upgrade, ...headers } });
      return r.status === 101 ? "upgraded" : `${r.status} ${((await r.json()) as { error: string }).error}`;
    };
    const client = new LocalPeer(generateIdentity(), "test");
    expect(await refusal({})).toBe("401 peer handshake refused: no x-icon-noise header");
    expect(await refusal({ [NOISE_HEADER]: client.dial(a.nodeId).header })).toBe("401 peer handshake refused: addressed to another node");
    expect(await refusal({ [NOISE_HEADER]: "AAAA" })).toBe("401 peer handshake refused: malformed handshake message");
    expect(await refusal({ [NOISE_HEADER]: client.dial(b.nodeId).header })).toBe("upgraded");
    expect(b.status().refused.badHandshake).toBe(3);
  });

  test("a dial that names the wrong node id is refused", async () => {
    const [a, b] = [await network(), await network()];
    const impostor = { nodeId: toHex(generateIdentity().nodeId), address: "127.0.0.1", port: b.port };
    // b refuses the handshake (addressed to another node), so the dial fails as unauthorized or unreachable
    await expect(a.connect(impostor)).rejects.toMatchObject({ message: expect.stringContaining("cannot connect to peer") });
  });

  test("a node that comes back with a new boot id replaces its old connection at once", async () => {
    const a = await network();
    const identity = generateIdentity();
    const b = await network(identity);
    b.handle("slow", () => new Promise(() => {}));
    await b.connect(endpointOf(a));
    const oldAtA = await connectionAt(a, b.nodeId);
    const pending = oldAtA.request("slow", {}, { timeoutMs: 60_000 }).then(() => "answered", (e) => e.code);
    const restarted: string[] = [];
    a.onPeerRestart((id) => restarted.push(id));
    // The same node again (same identity), as after a restart whose old connection has not closed yet.
    const b2 = await network(identity);
    await b2.connect(endpointOf(a));
    expect(await pending).toBe("UNREACHABLE"); // a replaced the old connection when the new one came in
    expect(restarted).toEqual([b.nodeId]);
    expect(oldAtA.open).toBe(false);
    expect(a.connection(b.nodeId)?.boot).toBe(b2.boot);
  });

  test("reach uses the open connection, dials a node heard of, and gives undefined for a stranger", async () => {
    const [a, b] = [await network(), await network()];
    expect(await a.reach(b.nodeId)).toBeUndefined();
    const conn = await a.connect(endpointOf(b));
    expect(await a.reach(b.nodeId)).toBe(conn);
    conn.close();
    const again = await a.reach(b.nodeId); // b's endpoint is known from the first dial
    expect(again?.open).toBe(true);
    expect(again).not.toBe(conn);
  });

  test("the endpoint a node claims when it dials in is probed, then known and saved", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "icon-peers-"));
    try {
      const a = await network(undefined, undefined, { dataDir });
      const b = await network();
      await b.connect(endpointOf(a)); // b claims 127.0.0.1:<its port>, the address it dials from
      for (let i = 0; i < 200 && !a.status().endpoints.known; i++) await Bun.sleep(5);
      expect(a.status().endpoints).toEqual({ known: 1, claimed: 0 });
      expect(a.endpointOf(b.nodeId)).toEqual(endpointOf(b));
      // The probe ended at its handshake (b closed it: no inbound socket left), and b kept the
      // connection it dialled: nothing replaced it.
      for (let i = 0; i < 200 && b.status().inbound; i++) await Bun.sleep(5);
      expect(b.status().inbound).toBe(0);
      expect(b.connections().map((c) => c.direction)).toEqual(["out"]);
      await a.stop();
      expect(await Bun.file(join(dataDir, "peers.json")).json()).toEqual([endpointOf(b)]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("a peer that stops fails requests in flight instead of hanging", async () => {
    const [a, b] = [await network(), await network()];
    b.handle("slow", () => new Promise(() => {}));
    const conn = await a.connect(endpointOf(b));
    const pending = conn.request("slow", {}, { timeoutMs: 60_000 });
    await b.stop();
    await expect(pending).rejects.toMatchObject({ code: "UNREACHABLE" });
    expect(a.connection(b.nodeId)).toBeUndefined();
  });
});

describe("peer network over IPv6", () => {
  test("a node on IPv4 and IPv6 accepts a Noise channel over each", async () => {
    const both = await network(undefined, undefined, { listen6: "::1", advertisedAddress6: () => "::1" });
    both.handle("from", async (_b, ctx) => ctx.peer.remoteIp);
    const six = await network(undefined, undefined, { listen: "::1", advertisedAddress: () => "::1" });
    const four = await network();
    const over6 = await six.connect({ nodeId: both.nodeId, address: "::1", port: both.port });
    expect(await over6.request("from", null)).toBe("::1");
    const over4 = await four.connect(endpointOf(both));
    expect(await over4.request("from", null)).toBe("127.0.0.1");
  });

  test("listening on 0.0.0.0 with listen6 empty is one dual-stack server: both families reach it on one port", async () => {
    const any = await network(undefined, undefined, { listen: "0.0.0.0", listen6: "" });
    any.handle("from", async (_b, ctx) => ctx.peer.remoteIp);
    const six = await network(undefined, undefined, { listen: "::1", advertisedAddress: () => "::1" });
    const four = await network();
    expect(await (await six.connect({ nodeId: any.nodeId, address: "::1", port: any.port })).request("from", null)).toBe("::1");
    expect(await (await four.connect(endpointOf(any))).request("from", null)).toBe("127.0.0.1"); // not ::ffff:127.0.0.1
  });

  test("a dialler over IPv6 claims its IPv6 endpoint, in brackets, and the claim is probed and kept", async () => {
    const a = await network(undefined, undefined, { listen6: "::1", advertisedAddress6: () => "::1" });
    const b = await network(undefined, undefined, { listen: "::1", advertisedAddress: () => "::1" });
    await a.connect({ nodeId: b.nodeId, address: "::1", port: b.port });
    for (let i = 0; i < 100 && b.endpointOf(a.nodeId)?.address !== "::1"; i++) await Bun.sleep(10);
    expect(b.endpointOf(a.nodeId)).toEqual({ nodeId: a.nodeId, address: "::1", port: a.port });
  });
});
