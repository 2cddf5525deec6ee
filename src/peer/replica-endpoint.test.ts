import { expect, test } from "bun:test";
import { checkReplicaEndpoint } from "./replica-endpoint.ts";

test("a replica endpoint must be on the address its node was reached at", () => {
  expect(checkReplicaEndpoint({ address: "192.0.2.7", port: 20001 }, ["192.0.2.7"], "ab".repeat(20))).toEqual({ address: "192.0.2.7", port: 20001 });
  expect(() => checkReplicaEndpoint({ address: "198.51.100.66", port: 20001 }, ["192.0.2.7"], "ab".repeat(20))).toThrow(expect.objectContaining({ code: "UNAUTHORIZED" }));
  expect(() => checkReplicaEndpoint(undefined, ["192.0.2.7"], "ab".repeat(20))).toThrow(expect.objectContaining({ code: "UNAUTHORIZED" }));
});

test("a dual-stack node reached over IPv6 may run the replica on its IPv6 address, in any text form", () => {
  const at = ["192.0.2.7", "2d00:1c0:5::2"];
  expect(checkReplicaEndpoint({ address: "2d00:1c0:5:0::2", port: 20001 }, at, "ab".repeat(20)).port).toBe(20001);
  expect(() => checkReplicaEndpoint({ address: "2d00:1c0:5::3", port: 20001 }, at, "ab".repeat(20))).toThrow(/not on its own address 192.0.2.7 or 2d00:1c0:5::2/);
});
