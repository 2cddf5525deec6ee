/**
 * Finding 14, replica names: a replica's name on its node was the parent ICON's name cut to 31
 * characters and the first 8 hex digits of the parent's node id. Two parents that agree on those share
 * one replica: the second one's replicate joins the first's in flight (its client's state goes to the
 * other's replica, which it is then sent to) or finds it running (direct).
 * - Across nodes the attacker needs a node id with the victim's first 32 bits: 2^32 key generations
 *   (src/bench/hostile/replica-name-collision.ts measures the rate: hours on one core, not a test's
 *   time), so here the names of two ids that agree on all but their last digit are compared.
 * - On one node two ICON names that agree on their first 31 characters collide for real, over real
 *   sockets: the second ICON's replicate came back with the first one's replica.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { generateIdentity } from "../../src/identity/identity.ts";
import { replicaName } from "../../src/peer/ops.ts";
import { toHex } from "../../src/util/hex.ts";
import { NAME_RE } from "../../src/yard/store.ts";
import { iconProgram } from "../support/memory-yard.ts";
import { APP_ID, replicateNodes, to } from "../support/replicate-nodes.ts";

const { node, origin, runRoot, closeAll } = replicateNodes();
afterEach(closeAll);

describe("finding 14: replica names", () => {
  test("parents whose node ids differ only in the last digit get different, valid replica names", () => {
    const id = toHex(generateIdentity().nodeId);
    const twin = id.slice(0, 39) + (id[39] === "0" ? "1" : "0");
    const long = "a".repeat(40);
    for (const icon of ["web", long]) {
      const [a, b] = [replicaName(icon, id), replicaName(icon, twin)];
      expect(a).not.toBe(b);
      expect(a).toMatch(NAME_RE);
      expect(b).toMatch(NAME_RE);
    }
  });

  test("two ICONs of one node whose names agree on 31 characters get two replicas, each its own", async () => {
    const common = "a".repeat(31);
    const o = await origin({ name: `${common}-one` });
    const second = await runRoot(o, `${common}-two`);
    const t = await node();
    t.engine.program(APP_ID, iconProgram());
    const first = await (await o.icon.replicate(to(t))).running;
    const other = await (await second.replicate(to(t))).running;
    expect(other.port).not.toBe(first.port);
    const parents = t.my.yard.list(true).map((v) => v.parent).sort();
    expect(parents).toEqual([`${o.net.nodeId}/${common}-one`, `${o.net.nodeId}/${common}-two`]);
  });
});
