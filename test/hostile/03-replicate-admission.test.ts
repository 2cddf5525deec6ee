/**
 * Finding 3, admission: any fresh key made a node run any image with any env and policy, and a replica
 * replicated onward under the identity of the node hosting it.
 * - A stranger (a fresh key, no ICON of its own anywhere) asks a node in allowlist mode for a replica.
 * - An honest origin not on the list asks: its ICON hears NOT_ADMITTED and keeps its client; once the
 *   operator admits the origin's key, the same ICON replicates.
 * - A node that saw an admitted owner's manifest sends it with its own image, its own env, or another
 *   policy (src/bench/hostile/manifest-forgery.ts).
 * - A stranger's ICON, run as a replica on an open node V, asks V to replicate it onward to T, which
 *   admits V's own ICONs (src/bench/hostile/replica-laundering.ts).
 * Nodes are in-memory engines with real peer websockets on loopback; the attacker is a peer network of
 * its own speaking the project's protocol (src/bench/hostile/replicate-attacker.ts).
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Icon } from "../../icon-runtime/src/index.ts";
import { manifestForgery } from "../../src/bench/hostile/manifest-forgery.ts";
import { launderThroughReplica } from "../../src/bench/hostile/replica-laundering.ts";
import { floodOutcome, replicateFlood } from "../../src/bench/hostile/replicate-flood.ts";
import { signManifest } from "../../src/yard/manifest.ts";
import { iconProgram, until } from "../support/memory-yard.ts";
import { endpointOf } from "../support/peers.ts";
import { attacker, held, replicas } from "./support/replicate-plumbing.ts";
import { APP, APP_ID, replicateNodes, to } from "../support/replicate-nodes.ts";

const { node, origin, network, closeAll } = replicateNodes();
afterEach(closeAll);

describe("finding 3: who may have a node run a replica", () => {
  test("allowlist: a stranger's replicate is refused with NOT_ADMITTED and nothing runs", async () => {
    const t = await node({ admission: "allowlist" });
    const a = await attacker(network);
    const r = await replicateFlood(a, endpointOf(t.net), { image: await held(t, "evil:1"), count: 1 });
    expect(r).toMatchObject({ ran: 0, refused: { NOT_ADMITTED: 1 } });
    expect(floodOutcome(r, 0)).toBe("refused");
    expect(replicas(t)).toEqual([]);
    expect(t.admission.view().refused).toBe(1);
  });

  test("allowlist: an honest origin not on the list keeps its client (NOT_ADMITTED), and replicates once admitted", async () => {
    const o = await origin();
    const t = await node({ admission: "allowlist" });
    t.engine.program(APP_ID, iconProgram());
    const refused = await (await o.icon.replicate(to(t))).running.catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain("NOT_ADMITTED");
    expect(o.my.yard.get("web")).toMatchObject({ state: "RUNNING", children: [] });
    expect(replicas(t)).toEqual([]);

    await t.admission.allow(o.ownerKey, "the origin");
    expect(await (await o.icon.replicate(to(t))).running).toMatchObject({ address: "127.0.0.1" });
    expect(replicas(t).map((v) => v.owner)).toEqual([o.ownerKey]);
  });

  test("a captured manifest of an admitted owner does not carry another image, env or policy", async () => {
    const o = await origin();
    const t = await node({ admission: "allowlist" });
    await t.admission.allow(o.ownerKey);
    t.engine.program(APP_ID, iconProgram());
    await (await o.icon.replicate(to(t))).running;
    // A manifest the owner signed, as any node that hosts one of its replicas holds it.
    const captured = signManifest(o.identity, { name: "web", imageId: (await o.engine.inspectImage(APP))!.id, env: {}, policy: {} });
    const a = await attacker(network);
    const answers = await manifestForgery(a, endpointOf(t.net), { captured, image: await held(t, "evil:1"), env: {} });
    for (const [forgery, answer] of Object.entries(answers)) expect({ forgery, ok: answer.ok, code: answer.ok ? undefined : answer.code }).toEqual({ forgery, ok: false, code: "UNAUTHORIZED" });
    expect(replicas(t).length).toBe(1);
  });

  test("a stranger's replica on an open node cannot replicate onward as that node's ICON", async () => {
    const v = await origin(); // runs its own root ICON "web" too
    const t = await node({ admission: "allowlist" });
    await t.admission.allow(v.ownerKey);
    t.engine.program(APP_ID, iconProgram());
    let evil: Icon | undefined;
    const image = await held(v, "evil:1", iconProgram({ setup: (i) => void (evil = i) }));
    t.engine.program(image.id, iconProgram()); // were it to arrive there, it would run
    const a = await attacker(network);
    const planted = await a.replicate(endpointOf(v.net), { icon: "evil", image });
    expect(planted.ok).toBe(true); // V is open: the stranger's ICON runs there
    await until("the stranger's ICON on V", () => evil);

    const laundered = await launderThroughReplica(evil!, to(t));
    expect(laundered.ran).toBe(false);
    expect(laundered.failure).toContain("NOT_ADMITTED");
    // V's own ICON is still admitted: T judges by owner, not by the node that asks.
    expect(await (await v.icon.replicate(to(t))).running).toMatchObject({ address: "127.0.0.1" });
    expect(replicas(t).map((r) => r.owner)).toEqual([v.ownerKey]);
  });
});
