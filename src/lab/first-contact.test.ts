import { expect, test } from "bun:test";
import { K } from "../dht/constants.ts";
import { keyOf, randomId } from "../dht/id.ts";
import { thesisTopology } from "../testbed/builtin.ts";
import { makePlan } from "../testbed/plan.ts";
import { statusOf } from "../testbed/state.ts";
import { toHex } from "../util/hex.ts";
import { heldKeys, pathRouterIds } from "./first-contact.ts";

test("the router keys of a first contact: each router on the origin's path to the client by its inbound /29, then the client's own", () => {
  const t = thesisTopology();
  const plan = makePlan("tb", t, false);
  const st = statusOf({ version: 1, phase: "up", docker: false, request: "", plan, createdAt: "" }, true);
  const block = (r: string) => st.routers.find((x) => x.name === r)!.block!;
  // IEP1 -> r7 r6 r5 r4 r2 r1 -> UD (thesis figure 4.1); per-router numbering: every address in the router's /29
  expect(pathRouterIds(st, t, "IEP1", "UD", "10.64.3.10")).toEqual([...["r7", "r6", "r5", "r4", "r2", "r1"].map(block), "10.64.3.8/29"]);
});

test("the origin holds a key when fewer than k of the other nodes are closer to it", () => {
  const key = keyOf("router", "10.0.0.8/29");
  /** An id at distance with this first byte from the key (the rest random, small beside it). */
  const at = (firstByte: number) => {
    const id = randomId();
    id[0] = key[0]! ^ firstByte;
    return toHex(id);
  };
  const near = at(0x01); // closer than anyone below
  const far = at(0x80); // farther than anyone below
  const middle = Array.from({ length: K }, () => at(0x10));
  const ids = [near, far, ...middle];
  expect(heldKeys(["10.0.0.8/29"], ids, near)).toBe(1);
  expect(heldKeys(["10.0.0.8/29"], ids, far)).toBe(0); // k nodes are closer
  expect(heldKeys(["10.0.0.8/29"], ids.slice(0, K), far)).toBe(1); // only near and k - 2 others closer
});
