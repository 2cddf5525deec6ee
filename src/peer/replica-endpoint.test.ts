import { expect, test } from "bun:test";
import { checkReplicaEndpoint } from "./replica-endpoint.ts";

test("a replica endpoint must be on the address its node was reached at", () => {
  expect(checkReplicaEndpoint({ address: "192.0.2.7", port: 20001 }, "192.0.2.7", "ab".repeat(20))).toEqual({ address: "192.0.2.7", port: 20001 });
  expect(() => checkReplicaEndpoint({ address: "198.51.100.66", port: 20001 }, "192.0.2.7", "ab".repeat(20))).toThrow(expect.objectContaining({ code: "UNAUTHORIZED" }));
  expect(() => checkReplicaEndpoint(undefined, "192.0.2.7", "ab".repeat(20))).toThrow(expect.objectContaining({ code: "UNAUTHORIZED" }));
});
