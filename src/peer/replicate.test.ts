/**
 * Replicate between two nodes without root or Docker: each node has its own in-memory container
 * engine and yard, the peer networks are real websockets on loopback, and both sides are wired as a
 * node wires them (replicate.ts). The origin's ICON asks through the icon-runtime library, as an
 * ICON does; the replica's process is the same library on the edge's runtime socket.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { crashProgram, iconProgram, until, untilState } from "../../test/support/memory-yard.ts";
import { APP, APP_ID, LAYERS, replicateNodes, to } from "../../test/support/replicate-nodes.ts";
import type { Replica } from "../../icon-runtime/src/index.ts";
import { FakeClock } from "../util/clock.ts";
import { replicaName } from "./ops.ts";

const { node, origin, runRoot, closeAll } = replicateNodes();
const modeOf = (r: Replica) => (r.status?.state === "running" ? r.status.mode : r.status?.state);

afterEach(closeAll);

describe("replicate on memory engines", () => {
  test("cold (the image's missing layer comes from the origin), then direct, then hot: the state arrives each time", async () => {
    const a = await origin();
    const b = await node();
    const states: unknown[] = [];
    const messages: unknown[] = [];
    b.engine.program(APP_ID, iconProgram({
      setup: async (icon) => {
        icon.onMessage((m) => messages.push(m.data));
        states.push(await icon.initialState());
      },
    }));

    const cold = await a.icon.replicate(to(b), { state: { n: 1 } });
    expect(await cold.running).toEqual({ address: "127.0.0.1", port: 20000 });
    expect(modeOf(cold)).toBe("cold");
    // The image is here by id, named only in icon's own repository, never by the origin's tag.
    expect((await b.engine.inspectImage(APP_ID))?.repoTags).toEqual([`icon.local/peer:${APP_ID.slice(7)}`]);
    expect(await b.engine.inspectImage(APP)).toBeUndefined();
    const name = replicaName("web", a.net.nodeId);
    expect(b.my.yard.get(name)).toMatchObject({ state: "RUNNING", role: "replica", parent: `${a.net.nodeId}/web` });
    await until("the replica's initial state", () => states.length === 1);
    expect(states).toEqual([{ n: 1 }]);
    expect(a.my.yard.get("web")?.children).toEqual([`${b.net.nodeId}/${name}`]);

    const direct = await a.icon.replicate(to(b));
    await direct.running;
    expect(modeOf(direct)).toBe("direct");

    const container = b.my.yard.get(name)!.containerId;
    const stopped = new Promise<void>((resolve) => a.icon.onReplica((s) => s.state === "stopped" && resolve()));
    await b.my.yard.stop(name);
    await stopped; // the edge reported it to the origin
    const hot = await a.icon.replicate(to(b), { state: { n: 2 } });
    await hot.running;
    expect(modeOf(hot)).toBe("hot");
    expect(b.my.yard.get(name)?.containerId).toBe(container);
    // The restarted replica keeps the state it was created with; the new client's state comes as a message.
    await until("the hot replica's state", () => messages.length === 1);
    expect([states, messages]).toEqual([[{ n: 1 }, { n: 1 }], [{ n: 2 }]]);
  });

  test("a target reached over IPv6 names its replica's endpoint at that IPv6 address (an IPv6 client is sent there)", async () => {
    const a = await origin();
    const b = await node({ net: { listen6: "::1", advertisedAddress6: () => "::1" } });
    b.engine.program(APP_ID, iconProgram());
    const six = await a.icon.replicate({ nodeId: b.net.nodeId, address: "::1", peerPort: b.net.port });
    expect(await six.running).toEqual({ address: "::1", port: 20000 });
    // the same node reached over IPv4 names its IPv4 address
    const four = await a.icon.replicate(to(b));
    expect(await four.running).toEqual({ address: "127.0.0.1", port: 20000 });
  });

  test("warm: a paused replica is reported stopped to the origin, and the next replicate thaws the same container; the state arrives", async () => {
    const a = await origin();
    const b = await node();
    const messages: unknown[] = [];
    b.engine.program(APP_ID, iconProgram({ setup: (icon) => void icon.onMessage((m) => messages.push(m.data)) }));
    await (await a.icon.replicate(to(b))).running;
    const name = replicaName("web", a.net.nodeId);
    const container = b.my.yard.get(name)!.containerId;
    const stopped = new Promise<void>((resolve) => a.icon.onReplica((s) => s.state === "stopped" && resolve()));
    await b.my.yard.pause(name);
    await stopped; // not "running" for the origin any more: no direct hand-over to a frozen replica
    const warm = await a.icon.replicate(to(b), { state: { n: 3 } });
    await warm.running;
    expect(modeOf(warm)).toBe("warm");
    expect(b.my.yard.get(name)).toMatchObject({ state: "RUNNING", containerId: container });
    expect(b.engine.all().map((c) => c.status)).toEqual(["running"]);
    await until("the warm replica's state", () => messages.length === 1);
    expect(messages).toEqual([{ n: 3 }]);
  });

  test("with a registry (IPO's way): the edge pulls the image the request names, by the origin's name, and keeps it only under its peer name", async () => {
    const registry = { images: new Map<string, Uint8Array>(), address: "10.9.0.1:5000" };
    const a = await origin({ registry });
    const b = await node({ registry });
    b.engine.program(APP_ID, iconProgram());
    await a.engine.tagImage(APP, "10.9.0.1:5000/app", "1");
    await a.engine.pushImage("10.9.0.1:5000/app:1");
    const r = await a.icon.replicate(to(b));
    await r.running;
    expect(modeOf(r)).toBe("registry");
    const status = r.status?.state === "running" ? r.status : undefined;
    expect(status?.timings?.bytes).toBeGreaterThan(0);
    expect((await b.engine.inspectImage(APP_ID))?.repoTags).toEqual([`icon.local/peer:${APP_ID.slice(7)}`]);
  });

  test("a registry that holds another image under the name: the edge refuses it and runs nothing", async () => {
    const registry = { images: new Map<string, Uint8Array>(), address: "10.9.0.1:5000" };
    const a = await origin({ registry });
    const b = await node({ registry });
    await a.engine.addImage("10.9.0.1:5000/app:1", { layers: ["something else"] });
    await a.engine.pushImage("10.9.0.1:5000/app:1");
    const err = await (await a.icon.replicate(to(b))).running.catch((e) => e);
    expect(err.message).toContain("not sha256:");
    expect(b.engine.all()).toEqual([]);
    expect(await b.engine.inspectImage("10.9.0.1:5000/app:1")).toBeUndefined();
  });

  test("a replicate while a prefetch of the same image is in flight waits for it: the image is loaded once, and the replica is prefetched", async () => {
    const a = await origin();
    const b = await node();
    b.engine.program(APP_ID, iconProgram());
    let loads = 0;
    const gate = Promise.withResolvers<void>();
    const load = b.engine.loadImage.bind(b.engine);
    b.engine.loadImage = async (archive) => {
      loads++;
      await gate.promise;
      return load(archive);
    };
    // The offer the origin makes to a node that keeps being its best candidate (prefetchAfter).
    const conn = await b.net.connect({ nodeId: a.net.nodeId, address: "127.0.0.1", port: a.net.port });
    const manifest = a.my.yard.record("web")!.manifest!;
    b.target.offer({ icon: "web", image: { ref: APP, id: APP_ID, diffIds: (await a.engine.inspectImage(APP))!.diffIds }, manifest }, conn);
    await until("the prefetch loading", () => loads === 1);
    const r = await a.icon.replicate(to(b));
    await Bun.sleep(100);
    expect(loads).toBe(1); // the replicate waits; it does not fetch and load the image a second time
    gate.resolve();
    await r.running;
    expect(modeOf(r)).toBe("prefetched");
    expect(loads).toBe(1);
  });

  test("a replica that crashes on the edge: the ICON hears it failed, with the edge's reason; the edge keeps nothing of it", async () => {
    const a = await origin();
    const b = await node();
    b.engine.program(APP_ID, crashProgram(4, "replica: cannot start"));
    const r = await a.icon.replicate(to(b));
    const err = await r.running.catch((e) => e);
    expect(err.code).toBe("REPLICA_FAILED");
    expect(err.message).toContain("exited with code 4 before it called icon.ready()");
    expect(err.message).toContain("replica: cannot start");
    // Removed with its port: a failed replica is never restarted as it is.
    expect(b.my.yard.get(replicaName("web", a.net.nodeId))).toBeUndefined();
    expect(b.engine.all()).toEqual([]);
  });

  test("a stopped replica of an older image is replaced by a new one of the image asked for (cold again)", async () => {
    const a = await origin();
    const b = await node();
    b.engine.program(APP_ID, iconProgram());
    const name = replicaName("web", a.net.nodeId);
    await (await a.icon.replicate(to(b))).running;
    const stopped = new Promise<void>((resolve) => a.icon.onReplica((s) => s.state === "stopped" && resolve()));
    await b.my.yard.stop(name);
    await stopped;

    // The origin runs "web" again from a rebuilt image: same name, new top layer.
    await a.my.yard.remove("web", { force: true });
    const v2 = await a.engine.addImage("app:2", { layers: [LAYERS[0]!, "the application, rebuilt"] });
    b.engine.program(v2.id, iconProgram());
    const icon = await runRoot(a, "web", "app:2");
    const again = await icon.replicate(to(b));
    await again.running;
    expect(modeOf(again)).toBe("cold");
    const containers = b.engine.all();
    expect(containers.length).toBe(1);
    expect(containers[0]).toMatchObject({ image: v2.id, running: true });
    expect(b.my.yard.get(name)?.state).toBe("RUNNING");
    expect((await b.engine.inspectImage(v2.id))?.id).toBe(v2.id);
  });

  test("an edge that never answers: the replicate fails after its timeout (fake clock on the origin's peer network)", async () => {
    const clock = new FakeClock();
    const a = await origin({ clock });
    const b = await node({ readySec: 600 });
    b.engine.program(APP_ID, iconProgram({ ready: false }));
    const r = await a.icon.replicate(to(b));
    await untilState(b.my, (e) => e.state === "WAITING_READY");
    await clock.advance(119_000);
    expect(r.status).toBeUndefined();
    await clock.advance(1_000);
    const err = await r.running.catch((e) => e);
    expect(err.code).toBe("REPLICA_FAILED");
    expect(err.message).toContain("did not answer icon.replicate within 120000 ms");
  });

  test("the source's policy: maxReplicas 0 refuses before any request leaves the node", async () => {
    const a = await origin();
    const b = await node();
    await a.icon.policy({ maxReplicas: 0 });
    const err = await a.icon.replicate(to(b)).catch((e) => e);
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toContain("policy maxReplicas 0");
    expect(b.my.yard.list(true)).toEqual([]);
  });
});
