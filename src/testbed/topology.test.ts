import { describe, expect, test } from "bun:test";
import { isIconError } from "../errors.ts";
import { parseTopology, wantsContainer, withLoss } from "./topology.ts";

const ok = {
  hosts: ["A", { name: "B", docker: true }],
  routers: ["r1"],
  links: [{ a: "A", b: "r1", delayMs: 1 }, { a: "r1", b: "B", delayMs: 2, rateMbit: 10, loss: 0.1 }],
};

function rejects(json: unknown, pattern: RegExp) {
  try {
    parseTopology(json, "t.json");
  } catch (e) {
    expect(isIconError(e, "INVALID_INPUT")).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error("accepted a bad topology");
}

describe("topology file", () => {
  test("parses names, objects, rates and loss", () => {
    const t = parseTopology(ok, "t.json");
    expect(t.hosts).toEqual([{ name: "A" }, { name: "B", docker: true }]);
    expect(t.links[1]).toEqual({ a: "r1", b: "B", delayMs: 2, rateMbit: 10, loss: 0.1 });
  });
  test("rejects unknown nodes, bad names, multi-homed hosts, parallel links, islands", () => {
    rejects({ ...ok, links: [...ok.links, { a: "A", b: "r9", delayMs: 1 }] }, /unknown node "r9"/);
    rejects({ ...ok, hosts: ["A", "B", "a-b"] }, /name "a-b"/);
    rejects({ ...ok, routers: ["r1", "r2"], links: [...ok.links, { a: "A", b: "r2", delayMs: 1 }] }, /host "A" must have exactly one link/);
    rejects({ ...ok, links: [...ok.links, { a: "r1", b: "A", delayMs: 3 }] }, /two links join/);
    rejects({ ...ok, routers: ["r1", "r2"] }, /"r2" is not connected/);
    rejects({ ...ok, links: [{ a: "A", b: "r1", delayMs: -1 }] }, /delayMs must be a number/);
    rejects({ hosts: [], routers: [], links: [] }, /at least one host/);
    rejects({ hosts: "A" }, /"hosts" must be an array/);
  });
  test("--loss sets every link; IEP hosts get containers unless told otherwise", () => {
    const t = withLoss(parseTopology(ok, "t.json"), 0.05);
    expect(t.links.map((l) => l.loss)).toEqual([0.05, 0.05]);
    expect(wantsContainer({ name: "IEP7" })).toBe(true);
    expect(wantsContainer({ name: "UD" })).toBe(false);
    expect(wantsContainer({ name: "IEP1", docker: false })).toBe(false);
    expect(wantsContainer({ name: "X", docker: true })).toBe(true);
  });
});
