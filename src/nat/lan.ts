/**
 * Where this node sits on its LAN: the address its ports are mapped to, and the default gateway that
 * NAT-PMP asks (RFC 6886 §3.1: the client sends to its default gateway). Read from /proc/net/route
 * (the node's own network namespace), so no process is spawned.
 */
import { canonicalIPv6, familyOf } from "../util/ipv6.ts";
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { formatIPv4 } from "../util/ipv4.ts";

export interface Lan {
  /** The node's own IPv4 address on the interface of the default route. */
  address: string;
  /** The default gateway (the home router). */
  gateway: string;
  iface: string;
}

/** /proc/net/route stores addresses as little-endian hex. */
function hexAddress(h: string): string {
  return formatIPv4(Number.parseInt(h.match(/../g)!.reverse().join(""), 16) >>> 0);
}

/**
 * The default route's interface and gateway, and the node's address there (`listen` when it names one).
 * Undefined when there is no default route, or the node listens on loopback: nothing to map then.
 */
export function findLan(listen: string, routes = readRoutes()): Lan | undefined {
  if (listen.startsWith("127.")) return undefined;
  const def = routes.find((r) => r.destination === "0.0.0.0" && r.gateway !== "0.0.0.0");
  if (!def) return undefined;
  const address = listen !== "0.0.0.0" ? listen : networkInterfaces()[def.iface]?.find((a) => a.family === "IPv4")?.address;
  return address ? { address, gateway: def.gateway, iface: def.iface } : undefined;
}

interface Route {
  iface: string;
  destination: string;
  gateway: string;
}

function readRoutes(): Route[] {
  let text = "";
  try {
    text = readFileSync("/proc/net/route", "utf8");
  } catch {
    return [];
  }
  return text.split("\n").slice(1).filter(Boolean).map((line) => {
    const [iface, dest, gw] = line.trim().split(/\s+/);
    return { iface: iface!, destination: hexAddress(dest!), gateway: hexAddress(gw!) };
  });
}

/** Whether an address (IPv4 or IPv6) is one of this host's own (a node that is its own public address needs no mapping). */
export function isOwnAddress(ip: string): boolean {
  const six = canonicalIPv6(ip);
  const mine = (a: { family: string; address: string }) => (six && familyOf(ip) === 6 ? a.family === "IPv6" && canonicalIPv6(a.address) === six : a.family === "IPv4" && a.address === ip);
  return Object.values(networkInterfaces()).some((list) => list?.some(mine));
}
