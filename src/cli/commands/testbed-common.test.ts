import { describe, expect, test } from "bun:test";
import { isIconError } from "../../errors.ts";
import { loadTopology, natFlags } from "./testbed-common.ts";

describe("testbed topology flags", () => {
  test("--nat takes KIND@HOST, repeated or comma-separated", () => {
    expect(natFlags({ nat: ["upnp@IEP2,cgnat@UD", "static@IEP1"] })).toEqual([["IEP2", "upnp"], ["UD", "cgnat"], ["IEP1", "static"]]);
    expect(natFlags({})).toEqual([]);
    try {
      natFlags({ nat: ["IEP2"] });
      throw new Error("accepted --nat IEP2");
    } catch (e) {
      expect(isIconError(e, "USAGE")).toBe(true);
    }
  });
  test("--ipv6, --numbering and --nat apply to the thesis and random topologies", () => {
    const t = loadTopology({ ipv6: true, numbering: "per-link", nat: ["upnp@IEP2"] });
    expect([t.source, t.ipv6, t.numbering, t.hosts.find((h) => h.name === "IEP2")?.nat]).toEqual(["thesis", true, "per-link", "upnp"]);
    expect(loadTopology({ topology: "random", seed: "3", nat: ["cgnat@UD1"] }).hosts.find((h) => h.name === "UD1")?.nat).toBe("cgnat");
    expect(() => loadTopology({ numbering: "per-host" })).toThrow(/--numbering per-host/);
    expect(loadTopology({})).toEqual(loadTopology({ ipv6: false }));
    const fw = loadTopology({ ipv6: true, nat: ["upnp@IEP2", "static@UD"], firewall6: true });
    expect(fw.hosts.map((h) => [h.name, h.firewall6])).toEqual([["UD", true], ["IEP1", undefined], ["IEP2", true]]);
    expect(() => loadTopology({ nat: ["upnp@IEP2"], firewall6: true })).toThrow(/--firewall6 needs IPv6/);
  });
});
