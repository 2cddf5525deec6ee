import { expect, test } from "bun:test";
import { AddressScope, sameScope, specialRange } from "./address-scope.ts";

test("special-purpose ranges are named; global unicast is not", () => {
  expect(["10.1.2.3", "172.31.0.1", "192.168.0.1", "100.127.0.1", "169.254.9.9", "127.0.0.2", "198.19.1.1", "192.0.2.5", "203.0.113.9", "0.1.2.3", "240.0.0.1"].map(specialRange))
    .toEqual(["10/8", "172.16/12", "192.168/16", "100.64/10", "169.254/16", "127/8", "198.18/15", "192.0.2/24", "203.0.113/24", "0/8", "224/3"]);
  for (const a of ["8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "198.20.0.1"]) expect(specialRange(a)).toBeUndefined();
});

test("a node queries a private contact only when it is on that range itself", () => {
  let own: string[] = ["80.1.2.3"];
  let now = 0;
  const scope = new AddressScope(() => own, () => now);
  expect(scope.allows("93.184.216.34")).toBe(true);
  expect(scope.allows("192.168.1.1")).toBe(false);
  expect(scope.allows("127.0.0.1")).toBe(false);
  own = ["80.1.2.3", "192.168.1.20"]; // learned later (an interface, a bootstrap node): seen after the refresh
  now = 20_000;
  expect(scope.allows("192.168.7.7")).toBe(true);
  expect(scope.allows("10.0.0.1")).toBe(false);
});

test("a responder names a private contact only to a requester in the same range", () => {
  expect(sameScope("10.1.1.1", "10.200.0.5")).toBe(true);
  expect(sameScope("10.1.1.1", "80.1.2.3")).toBe(false);
  expect(sameScope("127.0.0.1", "127.0.0.1")).toBe(true);
  expect(sameScope("80.1.2.3", "10.1.1.1")).toBe(true);
});

test("IPv6: loopback, unique local, link-local, multicast and documentation are special; the testbed's 2d00:1c0::/32 is global", () => {
  expect(["::1", "fd00::2", "fc12::1", "fe80::1", "ff02::1", "2001:db8::5", "3fff:1::1", "100::1", "2001:2::9"].map(specialRange))
    .toEqual(["::/127", "fc00::/7", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32", "3fff::/20", "100::/64", "2001:2::/48"]);
  for (const a of ["2d00:1c0::1", "2a01:4f8::1", "2001:db9::1", "fbff::1", "64:ff9b::1"]) expect(specialRange(a)).toBeUndefined();
  expect(specialRange("::ffff:10.0.0.1")).toBe("10/8"); // IPv4-mapped is IPv4
});

test("IPv6 scopes: a ULA contact only for a node on a ULA, and never named to a global requester", () => {
  const scope = new AddressScope(() => ["2d00:1c0:1::5"], () => 0);
  expect(scope.allows("2d00:1c0:9::1")).toBe(true);
  expect(scope.allows("fd00::7")).toBe(false);
  expect(scope.allows("::1")).toBe(false);
  expect(new AddressScope(() => ["fd12::5"], () => 0).allows("fd00::7")).toBe(true);
  expect(sameScope("fd00::7", "2d00:1c0::1")).toBe(false);
  expect(sameScope("fd00::7", "fd99::1")).toBe(true);
  expect(sameScope("::1", "127.0.0.1")).toBe(false);
  expect(sameScope("2d00:1c0::1", "10.0.0.1")).toBe(true);
});
