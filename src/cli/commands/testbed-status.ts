import { status } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import type { TestbedStatus } from "../../testbed/state.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { NAME_OPTION } from "./testbed-common.ts";

export function renderStatus(s: TestbedStatus): string {
  const delay = s.delayd === "dead" ? "DEAD (delayed links drop every packet; run `icon testbed up` again)" : s.delayd;
  const engine = (h: TestbedStatus["hosts"][number]) => h.dockerSocket && `${h.dockerSocket}${h.dockerd === "dead" ? " (DEAD: run `icon testbed up` again)" : ""}`;
  return [
    `testbed ${s.name}: ${s.topology}, ${s.phase}${s.engines ? ", docker engines" : s.docker ? ", docker" : ""}; delay process ${delay}${s.delayPid ? ` (pid ${s.delayPid})` : ""}`,
    "",
    s.engines
      ? table(["host", "address", "netns", "container", "docker engine"], s.hosts.map((h) => [h.name, h.address, h.netns, h.container, engine(h)]))
      : table(["host", "address", "netns", "container"], s.hosts.map((h) => [h.name, h.address, h.netns, h.container])),
    "",
    table(["router", "block", "addresses"], s.routers.map((r) => [r.name, r.block, r.addresses.join(" ")])),
    "",
    table(["link", "delay ms", "rate Mbit/s", "loss"], s.links.map((l) => [`${l.a}-${l.b}`, l.delayMs, l.rateMbit ?? "-", l.loss || "-"])),
  ].join("\n");
}

export const command = defineCommand({
  name: "testbed status",
  usage: "icon testbed status [--name NAME] [--json]",
  description: `--json prints {name, topology, phase, docker, engines, hosts: [{name, netns, address, container?,
dockerSocket?, dockerd?: running|dead}],
routers: [{name, netns, addresses, block}], links: [{a, b, delayMs, rateMbit, loss, aAddress, bAddress}],
delayPid?, delayd: running|dead|none}: scripts never guess names or addresses. Exits 10 when the delay
process or a host's Docker engine is dead.`,
  options: { ...NAME_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const s = await status(testbedName(values.name));
    out.data(s, () => renderStatus(s));
    return s.delayd === "dead" || s.hosts.some((h) => h.dockerd === "dead") ? 10 : 0;
  },
});
