import { describe, expect, test } from "bun:test";
import { clientBlocks } from "../../testbed/addressing.ts";
import { ATTACKER_HOST, ATTACKER_PREFIXES, AttackerAddresses, hostileTopology } from "./run-spec.ts";

describe("the attacker's addresses in the testbed's client block", () => {
  const prefix = clientBlocks(hostileTopology().hosts).get(ATTACKER_HOST)!;
  const addr = new AttackerAddresses("10.1.8.10", { prefix, count: ATTACKER_PREFIXES });

  test("the attacker host holds a block of its extra /24s, and only it", () => {
    expect(prefix).toBe("10.64.0.0/19");
    expect(clientBlocks(hostileTopology().hosts).size).toBe(1);
  });

  test("one /24 for the one-network floods, 20 others for the many-network ones", () => {
    expect(addr.oneNet(3)).toEqual(["10.64.0.1", "10.64.0.2", "10.64.0.3"]);
    const many = addr.manyNets(40);
    expect(new Set(many.map((a) => a.replace(/\.\d+$/, ""))).size).toBe(20);
    expect(many[0]).toBe("10.64.1.1");
    expect(many[20]).toBe("10.64.1.2");
    expect(addr.voters(2)).toEqual(["10.64.0.251", "10.64.21.1"]);
  });

  test("its networks: its own /24 and each extra one", () => {
    expect(addr.networks()).toHaveLength(1 + ATTACKER_PREFIXES);
    expect(addr.networks().slice(0, 2)).toEqual(["10.1.8.", "10.64.0."]);
  });

  test("too few /24s, or none, is refused", () => {
    expect(() => new AttackerAddresses("10.1.8.10", { prefix, count: 2 })).toThrow(/needs 24 extra \/24s, it has 2/);
    expect(() => new AttackerAddresses("10.1.8.10", undefined)).toThrow(/it has 0/);
  });
});
