import { expect, test } from "bun:test";
import { findLan6, parseAddresses6, parseRoutes6 } from "./lan6.ts";

// /proc/net/ipv6_route: destination, its length, source, its length, next hop, metric, refcnt, use, flags, interface.
const route = (dest: string, len: string, gw: string, metric: string, iface: string) => `${dest} ${len} ${"0".repeat(32)} 00 ${gw} ${metric} 00000001 00000000 00000003 ${iface}`;
const ZERO = "0".repeat(32);
const LL_GW = "fe8000000000000028c896fffe51b2d7";
const routes = [
  route("2d0001c0ff0100000000000000000000", "40", ZERO, "00000100", "eth0"),
  route(ZERO, "00", ZERO, "ffffffff", "lo"), // the kernel's unreachable default
  route(ZERO, "00", "2d0001c0ff0200000000000000000001", "00000800", "eth1"),
  route(ZERO, "00", LL_GW, "00000400", "eth0"),
].join("\n");
// /proc/net/if_inet6: address, ifindex, prefix length, scope, flags, interface.
const addresses = [
  "fe80000000000000803cf2fffeb2d2a6 02 40 20 80 eth0",
  "fd000000000000000000000000000010 02 40 00 80 eth0", // unique local
  "2d0001c0ff01000011223344556677aa 02 40 00 01 eth0", // temporary
  "2d0001c0ff0100000000000000000020 02 40 00 20 eth0", // deprecated
  "2d0001c0ff0100000000000000000010 02 40 00 80 eth0",
  "2d0001c0ff0200000000000000000010 03 40 00 80 eth1",
].join("\n");

test("the default route with the lowest metric, its link-local router with the interface as scope, and the stable global address there", () => {
  expect(findLan6("", parseRoutes6(routes), parseAddresses6(addresses))).toEqual({ lan: { address: "2d00:1c0:ff01::10", gateway: "fe80::28c8:96ff:fe51:b2d7%eth0", iface: "eth0" } });
  // A global next hop (the testbed's onlink route) carries no scope.
  const onlink = parseRoutes6(route(ZERO, "00", "2d0001c0ff0200000000000000000001", "00000400", "eth1"));
  expect(findLan6("::", onlink, parseAddresses6(addresses)).lan).toEqual({ address: "2d00:1c0:ff02::10", gateway: "2d00:1c0:ff02::1", iface: "eth1" });
});

test("listen6 names the address; nothing to open without a default route, a global address, or with a local listen6", () => {
  expect(findLan6("2d00:1c0:ff01::77", parseRoutes6(routes), []).lan?.address).toBe("2d00:1c0:ff01::77");
  expect(findLan6("", parseRoutes6(routes.split("\n").slice(0, 2).join("\n")), parseAddresses6(addresses))).toEqual({ why: "no IPv6 default route: nothing to open" });
  expect(findLan6("", parseRoutes6(routes), parseAddresses6(addresses.split("\n").slice(0, 4).join("\n")))).toEqual({ why: "no global IPv6 address on eth0: nothing to open" });
  expect(findLan6("::1", parseRoutes6(routes), parseAddresses6(addresses)).why).toBe("listen6 ::1 is not a global address: nothing to open");
  expect(findLan6("fd00::10", parseRoutes6(routes), parseAddresses6(addresses)).why).toContain("not a global address");
});
