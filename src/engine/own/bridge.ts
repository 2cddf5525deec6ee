/**
 * The Linux bridge the node's ICONs sit on, made by the node itself and handed to its dockerd as its
 * default bridge (`--bridge=<name>`). Not `--bridge=none`: a dockerd started so deletes the interface
 * named docker0 in its namespace (Moby's removeDefaultBridgeInterface), and there that is the
 * operator's. dockerd takes the subnet from the bridge's address.
 */
import { IconError } from "../../errors.ts";
import { complaint, run } from "../../util/command.ts";
import { formatCidr, formatIPv4, parseCidr, type Cidr } from "../../util/ipv4.ts";
import { pickSubnet, prefixesInUse } from "./subnet.ts";

/** The bridge's subnet (from its first IPv4 address), or undefined when there is no such bridge. */
export async function bridgeSubnet(name: string): Promise<Cidr | undefined> {
  const r = await run(["ip", "-j", "-4", "addr", "show", "dev", name]);
  if (r.code !== 0) return undefined;
  const info = (JSON.parse(r.stdout || "[]") as { addr_info?: { local?: string; prefixlen?: number }[] }[])[0]?.addr_info?.[0];
  return info?.local ? parseCidr(`${info.local}/${info.prefixlen}`, 0, 32) : undefined;
}

async function ip(args: string[]): Promise<void> {
  const r = await run(["ip", ...args]);
  if (r.code !== 0) throw new IconError("FAILED", `ip ${args.join(" ")}: ${complaint(r)}`, "Check that the node runs as root and that this host can make bridges (ip link add type bridge).");
}

/**
 * Sets the bridge's MAC address to the one it has. A bridge whose address was never set takes the lowest
 * address among its ports and follows them as they come and go; when the port whose address it had leaves
 * (an ICON stops or fails to start), ICONs that learned that address for their gateway send into nothing
 * until their ARP entry expires, up to about 45 s, and their clients hear nothing meanwhile. An address
 * set once stays (the kernel's NET_ADDR_SET), as dockerd sets docker0's.
 */
async function pinAddress(name: string): Promise<void> {
  const r = await run(["ip", "-j", "link", "show", "dev", name]);
  const address = r.code === 0 ? (JSON.parse(r.stdout || "[]") as { address?: string }[])[0]?.address : undefined;
  if (!address) throw new IconError("FAILED", `cannot read the MAC address of bridge ${name}: ${complaint(r)}`, "Check that the node runs as root (ip link show).");
  await ip(["link", "set", "dev", name, "address", address]);
}

export async function deleteBridge(name: string): Promise<void> {
  if (await bridgeSubnet(name).catch(() => undefined)) await run(["ip", "link", "delete", name]);
}

/**
 * The bridge, made if missing (subnet: `wanted`, or auto-picked), kept if it is there with a subnet
 * that agrees with `wanted`. `inUse` is true while an engine runs on it: then it cannot change.
 */
export async function ensureBridge(name: string, wanted: string, key: string, inUse: boolean): Promise<Cidr> {
  const have = await bridgeSubnet(name);
  const wantedCidr = wanted === "auto" ? undefined : parseCidr(wanted);
  if (have && (!wantedCidr || formatCidr(wantedCidr) === formatCidr(have))) {
    await pinAddress(name); // a bridge made by an older node may not have it pinned
    return have;
  }
  if (have && inUse)
    throw new IconError("CONFIG", `iconSubnet is ${wanted}, but the node's engine runs on ${formatCidr(have)}`,
      `Stop the node's ICONs and the node, then start it again (its engine then moves to ${wanted}), or set iconSubnet back.`);
  if (have) await ip(["link", "delete", name]);
  const subnet = pickSubnet(wanted, key, name, await prefixesInUse());
  await ip(["link", "add", "name", name, "type", "bridge"]);
  await pinAddress(name);
  await ip(["addr", "add", `${formatIPv4(subnet.base + 1)}/${subnet.prefix}`, "dev", name]);
  await ip(["link", "set", name, "up"]);
  return subnet;
}
