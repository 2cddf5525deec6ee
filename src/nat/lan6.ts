/**
 * Where this node sits on its LAN over IPv6: the global address its pinholes open to, and the default
 * router that PCP asks (RFC 6887 §8.1: the client sends to its default router). The gateway of an IPv6
 * default route is usually the router's link-local address (learned from its router advertisements):
 * then it carries the interface as its scope ("fe80::1%eth0"), which a socket needs to reach it. Read
 * from /proc/net/ipv6_route and /proc/net/if_inet6, so no process is spawned.
 */
import { readFileSync } from "node:fs";
import { formatIPv6 } from "../util/ipv6.ts";

export interface Lan6 {
  /** The node's global IPv6 address on the interface of the default route. */
  address: string;
  /** The default router, with "%iface" when it is link-local. */
  gateway: string;
  iface: string;
}

interface Route6 {
  prefixLen: number;
  gateway: string;
  metric: number;
  iface: string;
}

interface Address6 {
  address: string;
  /** Kernel scope: 0 global, 0x20 link. */
  scope: number;
  flags: number;
  iface: string;
}

/** IFA_F_TEMPORARY, DADFAILED, DEPRECATED, TENTATIVE: addresses not to open the firewall for. */
const UNSTABLE = 0x01 | 0x08 | 0x20 | 0x40;

const hex16 = (h: string) => formatIPv6(Uint8Array.from(h.match(/../g)!, (b) => Number.parseInt(b, 16)));
const isLinkLocal = (a: string) => /^fe[89ab]/i.test(a);
/** Unique local (fc00::/7), loopback, link-local: nothing outside the home reaches them. */
const notGlobal = (a: string) => /^f[cd]/i.test(a) || isLinkLocal(a) || a === "::1" || a === "::";

export function parseRoutes6(text: string): Route6[] {
  return text.split("\n").filter(Boolean).map((line) => {
    const [, destLen, , , gw, metric, , , , iface] = line.trim().split(/\s+/);
    return { prefixLen: Number.parseInt(destLen!, 16), gateway: hex16(gw!), metric: Number.parseInt(metric!, 16), iface: iface! };
  });
}

export function parseAddresses6(text: string): Address6[] {
  return text.split("\n").filter(Boolean).map((line) => {
    const [addr, , , scope, flags, iface] = line.trim().split(/\s+/);
    return { address: hex16(addr!), scope: Number.parseInt(scope!, 16), flags: Number.parseInt(flags!, 16), iface: iface! };
  });
}

/**
 * The default route's interface and router, and the node's address there: `listen6` when it names one,
 * else the first stable global address of that interface (temporary ones, RFC 8981, change daily).
 * With `why` instead when there is nothing to open pinholes for.
 */
export function findLan6(listen6: string, routes = parseRoutes6(read("/proc/net/ipv6_route")), addresses = parseAddresses6(read("/proc/net/if_inet6"))): { lan?: Lan6; why?: string } {
  const specific = listen6 !== "" && listen6 !== "::" ? listen6 : undefined;
  if (specific && notGlobal(specific)) return { why: `listen6 ${specific} is not a global address: nothing to open` };
  const def = routes.filter((r) => r.prefixLen === 0 && r.gateway !== "::" && r.iface !== "lo").sort((a, b) => a.metric - b.metric)[0];
  if (!def) return { why: "no IPv6 default route: nothing to open" };
  const address = specific ?? addresses.find((a) => a.iface === def.iface && a.scope === 0 && !(a.flags & UNSTABLE) && !notGlobal(a.address))?.address;
  if (!address) return { why: `no global IPv6 address on ${def.iface}: nothing to open` };
  return { lan: { address, gateway: isLinkLocal(def.gateway) ? `${def.gateway}%${def.iface}` : def.gateway, iface: def.iface } };
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
