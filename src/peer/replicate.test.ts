/**
 * Replicate between two nodes without root or Docker: each node has its own in-memory container
 * engine and yard, the peer networks are real websockets on loopback, and both sides are wired as a
 * node wires them (replicate.ts). The origin's ICON asks through the icon-runtime library, as an
 * ICON does; the replica's process is the same library on the edge's runtime socket.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { CONFIG_DEFAULTS, crashProgram, iconProgram, memoryYard, until, untilState, type MemoryYard } from "../../test/support/memory-yard.ts";
import { loopbackNetworks } from "../../test/support/peers.ts";
import type { Icon, Replica } from "../../icon-runtime/src/index.ts";
import { MemoryEngine } from "../engine/memory-engine.ts";
import { generateIdentity } from "../identity/identity.ts";
import { silentLogger } from "../log.ts";
import { FakeClock } from "../util/clock.ts";
import type { PeerNetwork } from "./network.ts";
import { replicaName } from "./ops.ts";
import { startReplicate } from "./replicate.ts";
import type { ReplicateSource } from "./replicate-source.ts";

const APP = "app:1";
const LAYERS = ["the runtime base layer", "the application layer"];
/** The id `tag` has on any memory engine (ids are content digests): a replica runs by id, so its program is found by id. */
const idOf = async (tag: string, layers: string[]) => (await new MemoryEngine().addImage(tag, { layers })).id;
const APP_ID = await idOf(APP, LAYERS);
const { network, stopAll } = loopbackNetworks();
let yards: MemoryYard[] = [];

interface TestNode {
  net: PeerNetwork;
  my: MemoryYard;
  engine: MemoryEngine;
  source: ReplicateSource;
}

async function node(o: { clock?: FakeClock; readySec?: number } = {}): Promise<TestNode> {
  const net = await network(generateIdentity(), o.clock);
  const engine = new MemoryEngine();
  await engine.addImage("base:1", { layers: LAYERS.slice(0, 1) }); // every node holds the runtime's base layer
  const my = await memoryYard({ engine, nodeId: net.nodeId, config: { iconReadySec: o.readySec ?? 5 } });
  yards.push(my);
  const { source } = await startReplicate({ network: net, yard: my.yard, ready: async () => my.yard, findCloser: async () => [], log: silentLogger, prefetchAfter: 0, images: { ...CONFIG_DEFAULTS, dataDir: my.dir } });
  return { net, my, engine, source };
}

/** The origin with its root ICON "web" running APP; resolves with the ICON's runtime, to replicate from. */
async function origin(o: { clock?: FakeClock } = {}): Promise<TestNode & { icon: Icon }> {
  const n = await node(o);
  await n.engine.addImage(APP, { layers: LAYERS });
  let icon: Icon | undefined;
  n.engine.program(APP, iconProgram({ setup: (i) => void (icon = i) }));
  await n.my.yard.run({ image: APP, name: "web" });
  await until("the root ICON's runtime", () => icon);
  return { ...n, icon: icon! };
}

const to = (n: TestNode) => ({ nodeId: n.net.nodeId, address: "127.0.0.1", peerPort: n.net.port });
const modeOf = (r: Replica) => (r.status?.state === "running" ? r.status.mode : r.status?.state);

afterEach(async () => {
  await Promise.all(yards.map((y) => y.close()));
  yards = [];
  await stopAll();
});

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

  test("a replica that crashes on the edge: the ICON hears it failed, with the edge's reason", async () => {
    const a = await origin();
    const b = await node();
    b.engine.program(APP_ID, crashProgram(4, "replica: cannot start"));
    const r = await a.icon.replicate(to(b));
    const err = await r.running.catch((e) => e);
    expect(err.code).toBe("REPLICA_FAILED");
    expect(err.message).toContain("exited with code 4 before it called icon.ready()");
    expect(err.message).toContain("replica: cannot start");
    expect(b.my.yard.get(replicaName("web", a.net.nodeId))?.state).toBe("FAILED");
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
    let icon: Icon | undefined;
    a.engine.program("app:2", iconProgram({ setup: (i) => void (icon = i) }));
    await a.my.yard.run({ image: "app:2", name: "web" });
    await until("the new root ICON's runtime", () => icon);
    const again = await icon!.replicate(to(b));
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
