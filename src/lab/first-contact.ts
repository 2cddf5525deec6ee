/**
 * First contact (`icon bench migrate --case first`): a client from a network no node has seen. The
 * client host holds extra /24s (testbed clientPrefixes); before each sample its default route takes
 * the next one as its source address, so the origin's trace cache has no entry for it, and the origin
 * forgets the router lookups it cached (`icon topology flush`), so every router key of the path is
 * looked up again: from its own DHT store where it holds announcements for the router (where it is one of
 * the k nodes closest to the key: heldKeys says how many), from other nodes otherwise.
 */
import { SCHEMA } from "../config/schema.ts";
import { K } from "../dht/constants.ts";
import { compareDistance, fromHex, keyOf } from "../dht/id.ts";
import { IconError } from "../errors.ts";
import { clientAddress } from "../testbed/addressing.ts";
import { inHost, type NetworkSpec, type TestbedStatus } from "../testbed/index.ts";
import { pathOf, shortestPaths } from "../testbed/paths.ts";
import { routerIdOf } from "../topology/router-id.ts";

const ROUTER_MASK = SCHEMA.routerMask.default;

/** The host's one link: its interface's peer address is its gateway. */
function gatewayOf(st: TestbedStatus, host: string): string {
  const l = st.links.find((x) => x.a === host || x.b === host);
  if (!l) throw new IconError("NOT_FOUND", `host ${host} has no link in testbed ${st.name}`);
  return l.a === host ? l.bAddress : l.aAddress;
}

async function ip(st: TestbedStatus, host: string, args: string[]): Promise<void> {
  const p = Bun.spawn(inHost(st, host, ["ip", ...args]), { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new IconError("FAILED", `ip ${args.join(" ")} in ${host}: ${(await new Response(p.stderr).text()).trim()}`);
}

/** Makes the k-th extra /24 of `host` the source of its new connections; returns that address. */
export async function useClientNetwork(st: TestbedStatus, host: string, k: number): Promise<string> {
  const block = st.hosts.find((h) => h.name === host)?.clientBlock;
  if (!block) throw new IconError("INVALID_INPUT", `host ${host} has no extra client /24s`, "Bring the testbed up with clientPrefixes on that host.");
  const addr = clientAddress(block.prefix, k % block.count);
  await ip(st, host, ["route", "replace", "default", "via", gatewayOf(st, host), "dev", "eth0", "src", addr]);
  return addr;
}

/** Back to the host's own address. */
export function useOwnNetwork(st: TestbedStatus, host: string): Promise<void> {
  return ip(st, host, ["route", "replace", "default", "via", gatewayOf(st, host), "dev", "eth0"]);
}

/** The routerIds a trace from `origin` to `client` (at clientAddr) meets: each router's inbound address, and the client's own network. */
export function pathRouterIds(st: TestbedStatus, topology: NetworkSpec, origin: string, client: string, clientAddr: string): string[] {
  const path = [origin, ...pathOf(shortestPaths(topology, origin), client)];
  const ids: string[] = [];
  for (let i = 1; i < path.length - 1; i++) {
    const [prev, router] = [path[i - 1]!, path[i]!];
    const l = st.links.find((x) => (x.a === prev && x.b === router) || (x.a === router && x.b === prev))!;
    ids.push(routerIdOf(l.a === router ? l.aAddress : l.bAddress, ROUTER_MASK));
  }
  return [...ids, routerIdOf(clientAddr, ROUTER_MASK)];
}

/** How many of the router keys `self` holds: fewer than k of the DHT's nodes are closer to the key (Kademlia §2.3). */
export function heldKeys(routerIds: string[], nodeIds: string[], self: string): number {
  const me = fromHex(self);
  const others = nodeIds.filter((n) => n !== self).map(fromHex);
  return routerIds.filter((r) => {
    const key = keyOf("router", r);
    return others.filter((o) => compareDistance(key, o, me) < 0).length < K;
  }).length;
}
