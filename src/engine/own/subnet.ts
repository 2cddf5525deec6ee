/**
 * The ICONs' subnet: one that overlaps nothing this host routes or holds (its LAN, the operator's Docker
 * networks, a VPN, other nodes' bridges), else ICONs could not answer clients there. `auto` tries the
 * /24s of 10.201.0.0/16 starting at one picked by the node's key, so two nodes on one host usually
 * take different ones at once; a given subnet is only checked.
 */
import { IconError } from "../../errors.ts";
import { run } from "../../util/command.ts";
import { cidrsOverlap, formatCidr, parseCidr, type Cidr } from "../../util/ipv4.ts";

const POOL = parseCidr("10.201.0.0/16")!;

/** A prefix the host uses (a route's destination, an address's network), and the interface it is on. */
export interface InUse {
  cidr: Cidr;
  dev: string;
}

interface IpRoute {
  dst?: string;
  dev?: string;
}
interface IpAddr {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

/** Every prefix of this network namespace's routes (all tables, but not default routes) and addresses. */
export async function prefixesInUse(): Promise<InUse[]> {
  const read = async <T>(args: string[]): Promise<T[]> => {
    const r = await run(["ip", "-j", "-4", ...args]);
    if (r.code !== 0) throw new IconError("UNSUPPORTED", `ip ${args.join(" ")} failed: ${r.stderr.trim()}`, "Install iproute2 (scripts/setup.sh does).");
    return JSON.parse(r.stdout || "[]") as T[];
  };
  const out: InUse[] = [];
  for (const r of await read<IpRoute>(["route", "show", "table", "all"])) {
    if (!r.dst || r.dst === "default") continue;
    const cidr = parseCidr(r.dst.includes("/") ? r.dst : `${r.dst}/32`, 0, 32);
    if (cidr) out.push({ cidr, dev: r.dev ?? "" });
  }
  for (const a of await read<IpAddr>(["addr", "show"]))
    for (const i of a.addr_info ?? []) {
      const cidr = i.local && parseCidr(`${i.local}/${i.prefixlen ?? 32}`, 0, 32);
      if (cidr) out.push({ cidr, dev: a.ifname ?? "" });
    }
  return out;
}

/**
 * The subnet to use: `wanted` (a CIDR, or auto), never overlapping what `inUse` holds except on the
 * node's own bridge (which a restarted node finds already up).
 */
export function pickSubnet(wanted: string, key: string, bridge: string, inUse: InUse[]): Cidr {
  const others = inUse.filter((u) => u.dev !== bridge);
  const clash = (c: Cidr) => others.find((u) => cidrsOverlap(u.cidr, c));
  if (wanted !== "auto") {
    const c = parseCidr(wanted);
    if (!c) throw new IconError("CONFIG", `iconSubnet ${wanted} is not an IPv4 CIDR with a prefix of 16-28`, "Set iconSubnet to auto or to a CIDR such as 10.201.7.0/24.");
    const used = clash(c);
    if (used)
      throw new IconError("CONFIG", `iconSubnet ${wanted} overlaps ${formatCidr(used.cidr)} on ${used.dev || "this host"}`, "Set iconSubnet to a range this host does not use, or to auto.");
    return c;
  }
  const count = 2 ** (24 - POOL.prefix);
  const start = parseInt(key.slice(0, 4), 16) % count;
  for (let i = 0; i < count; i++) {
    const c = { base: POOL.base + ((start + i) % count) * 256, prefix: 24 };
    if (!clash(c)) return c;
  }
  throw new IconError("CONFIG", `every /24 of ${formatCidr(POOL)} overlaps a route or address of this host`, "Set iconSubnet to a free range (e.g. 172.30.7.0/24).");
}
