import { describe, expect, test } from "bun:test";
import { isIconError } from "../errors.ts";
import { parseTopology, wantsContainer, withLoss, withVariant } from "./topology.ts";

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

describe("home networks, IPv6 and numbering in a topology", () => {
  const home = {
    ...ok, ipv6: true, numbering: "per-link",
    hosts: [{ name: "A", nat: "upnp" }, { name: "B", nat: "static", forward: [4100, "20000-20009", "53"] }],
  };
  test("parses nat, forward, ipv6 and numbering", () => {
    const t = parseTopology(home, "t.json");
    expect(t.hosts).toEqual([{ name: "A", nat: "upnp" }, { name: "B", nat: "static", forward: [{ first: 4100, last: 4100 }, { first: 20000, last: 20009 }, { first: 53, last: 53 }] }]);
    expect([t.ipv6, t.numbering]).toEqual([true, "per-link"]);
    // The defaults stay out of the spec, so a default topology's `up` request is what it always was.
    const plain = parseTopology({ ...ok, ipv6: false, numbering: "per-router" }, "t.json");
    expect("ipv6" in plain || "numbering" in plain).toBe(false);
  });
  test("rejects unknown kinds, bad ports, forward without static, names a home cannot get", () => {
    rejects({ ...home, hosts: [{ name: "A", nat: "full-cone" }, "B"] }, /"nat" must be one of upnp, cgnat, static/);
    rejects({ ...home, hosts: ["A", { name: "B", nat: "upnp", forward: [1] }] }, /"forward" needs "nat": "static"/);
    rejects({ ...home, hosts: ["A", { name: "B", nat: "static", forward: ["9-2"] }] }, /"9-2" is not a port/);
    rejects({ ...home, hosts: ["A", { name: "B", nat: "static", forward: [70000] }] }, /70000 is not a port/);
    rejects({ ...home, numbering: "per-subnet" }, /"numbering" must be one of per-router, per-link/);
    rejects({ ...ok, routers: ["r1", "A_gw"], links: [...ok.links, { a: "r1", b: "A_gw", delayMs: 1 }], hosts: [{ name: "A", nat: "upnp" }, "B"] }, /needs a node "A_gw"/);
    rejects({ ...ok, hosts: [{ name: "Abcdefghijkl", nat: "cgnat" }, "B"], links: [{ a: "Abcdefghijkl", b: "r1", delayMs: 1 }, ok.links[1]] }, /shorten the host's name/);
  });
  test("clientPrefixes: a whole number of extra /24s, never behind NAT, within the space", () => {
    expect(parseTopology({ ...ok, hosts: [{ name: "A", clientPrefixes: 300 }, "B"] }, "t.json").hosts[0]).toEqual({ name: "A", clientPrefixes: 300 });
    rejects({ ...ok, hosts: [{ name: "A", clientPrefixes: 0 }, "B"] }, /"clientPrefixes" must be a whole number from 1 to 16384/);
    rejects({ ...ok, hosts: [{ name: "A", clientPrefixes: 2.5 }, "B"] }, /"clientPrefixes" must be a whole number/);
    rejects({ ...ok, hosts: [{ name: "A", clientPrefixes: 4, nat: "upnp" }, "B"] }, /cannot be given to a host behind NAT/);
    // 9000 and 9000 take blocks of 16384 /24s each: more than the space
    rejects({ ...ok, hosts: [{ name: "A", clientPrefixes: 9000 }, { name: "B", clientPrefixes: 9000 }] }, /need 32768 \/24s; at most 16384/);
  });
  test("firewall6: only on a host behind a home router in an IPv6 network", () => {
    const t = parseTopology({ ...home, hosts: [{ name: "A", nat: "upnp", firewall6: true }, { name: "B", nat: "cgnat", firewall6: false }] }, "t.json");
    expect(t.hosts).toEqual([{ name: "A", nat: "upnp", firewall6: true }, { name: "B", nat: "cgnat" }]);
    rejects({ ...home, hosts: [{ name: "A", nat: "upnp", firewall6: "yes" }, "B"] }, /"firewall6" must be true or false/);
    rejects({ ...home, hosts: [{ name: "A", firewall6: true }, "B"] }, /host "A": "firewall6" needs a home router \("nat"\)/);
    rejects({ ...home, ipv6: false, hosts: [{ name: "A", nat: "static", firewall6: true }, "B"] }, /host "A": "firewall6" needs an IPv6 network/);
  });
  test("withVariant applies the up flags to any topology and checks the hosts it names", () => {
    const t = withVariant(parseTopology(ok, "t.json"), { ipv6: true, numbering: "per-link", nat: [["B", "cgnat"]] });
    expect([t.ipv6, t.numbering, t.hosts[1]]).toEqual([true, "per-link", { name: "B", docker: true, nat: "cgnat" }]);
    expect(() => withVariant(t, { nat: [["C", "upnp"]] })).toThrow(/no host "C"/);
    expect(withVariant(t, { numbering: "per-router" }).numbering).toBeUndefined();
  });
  test("withVariant --firewall6 puts a firewall on every home router, and needs a home and IPv6", () => {
    const t = withVariant(parseTopology({ ...ok, hosts: ["A", "B", "C"], links: [...ok.links, { a: "r1", b: "C", delayMs: 1 }] }, "t.json"),
      { ipv6: true, nat: [["A", "upnp"], ["C", "static"]], firewall6: true });
    expect(t.hosts.map((h) => [h.name, h.firewall6])).toEqual([["A", true], ["B", undefined], ["C", true]]);
    const usage = (v: Parameters<typeof withVariant>[1], pattern: RegExp) => {
      try {
        withVariant(parseTopology(ok, "t.json"), v);
      } catch (e) {
        expect(isIconError(e, "USAGE")).toBe(true);
        expect((e as Error).message).toMatch(pattern);
        return;
      }
      throw new Error("accepted a bad --firewall6");
    };
    usage({ ipv6: true, firewall6: true }, /no host is behind a home router/);
    usage({ nat: [["A", "upnp"]], firewall6: true }, /--firewall6 needs IPv6/);
  });
});
