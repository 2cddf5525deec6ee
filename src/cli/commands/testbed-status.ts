import { status } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import type { TestbedStatus } from "../../testbed/state.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { NAME_OPTION } from "./testbed-common.ts";

function natText(h: TestbedStatus["hosts"][number]): string | undefined {
  const n = h.nat;
  if (!n) return undefined;
  const extra = n.forwarded ? ` ports ${n.forwarded.join(",")}` : n.upnp ? ` ${n.upnp.igd}${n.upnp.miniupnpd === "dead" ? " (miniupnpd DEAD: run `icon testbed up` again)" : ""}` : "";
  return `${n.kind} via ${n.gateway}, public ${n.publicAddress}${extra}${n.firewall6 ? ", IPv6 firewall" : ""}`;
}

export function renderStatus(s: TestbedStatus): string {
  const delay = s.delayd === "dead" ? "DEAD (delayed links drop every packet; run `icon testbed up` again)" : s.delayd;
  const engine = (h: TestbedStatus["hosts"][number]) => h.dockerSocket && `${h.dockerSocket}${h.dockerd === "dead" ? " (DEAD: run `icon testbed up` again)" : ""}`;
  const nat = s.hosts.some((h) => h.nat), six = s.ipv6;
  const hostCols = ["host", "address", ...(six ? ["IPv6"] : []), "netns", "container", ...(s.engines ? ["docker engine"] : []), ...(nat ? ["nat"] : [])];
  const extras = [s.numbering === "per-link" ? "per-link numbering" : "", six ? "IPv6" : "", s.guards.length ? `guarded ${s.guards.join(" ")}` : ""].filter(Boolean);
  return [
    `testbed ${s.name}: ${s.topology}, ${s.phase}${s.engines ? ", docker engines" : s.docker ? ", docker" : ""}${extras.length ? `, ${extras.join(", ")}` : ""}; delay process ${delay}${s.delayPid ? ` (pid ${s.delayPid})` : ""}`,
    "",
    table(hostCols, s.hosts.map((h) => [h.name, h.address, ...(six ? [h.address6] : []), h.netns, h.container, ...(s.engines ? [engine(h)] : []), ...(nat ? [natText(h)] : [])])),
    "",
    table(["router", "block", "addresses", ...(six ? ["IPv6"] : [])],
      s.routers.map((r) => [r.name, r.block ?? (r.role ? `${r.role} of ${r.host}` : "-"), r.addresses.join(" "), ...(six ? [r.addresses6?.join(" ")] : [])])),
    "",
    table(["link", "delay ms", "rate Mbit/s", "loss"], s.links.map((l) => [`${l.a}-${l.b}`, l.delayMs, l.rateMbit ?? "-", l.loss || "-"])),
  ].join("\n");
}

export const command = defineCommand({
  name: "testbed status",
  usage: "icon testbed status [--name NAME] [--json]",
  description: `--json prints {name, topology, phase, docker, engines, numbering, ipv6, guards, hosts: [{name, netns,
address, address6?, nat?: {kind, gateway, carrier?, lanAddress, lanPrefix, gatewayAddress, gatewayAddress6?,
wanAddress, publicAddress, forwarded?, firewall6, upnp?: {igd, natpmp, igd6?, pcp6?, miniupnpd: running|dead}},
container?, dockerSocket?, dockerd?: running|dead}], routers: [{name, netns, addresses, block?, addresses6?,
role?, host?}], links: [{a, b, delayMs, rateMbit, loss, aAddress, bAddress, aAddress6?, bAddress6?, prefix?}],
delayPid?, delayd: running|dead|none}: scripts never guess names or addresses (docs/testbed.md). Exits 10 when the
delay process, a host's Docker engine or a home router's miniupnpd is dead.`,
  options: { ...NAME_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const s = await status(testbedName(values.name));
    out.data(s, () => renderStatus(s));
    return s.delayd === "dead" || s.hosts.some((h) => h.dockerd === "dead" || h.nat?.upnp?.miniupnpd === "dead") ? 10 : 0;
  },
});
