import { up } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { loadTopology, NAME_OPTION, TOPOLOGY_OPTIONS } from "./testbed-common.ts";
import { renderStatus } from "./testbed-status.ts";

export const command = defineCommand({
  name: "testbed up",
  usage: "icon testbed up [--name NAME] [--topology thesis|random|FILE] [--seed N] [--hosts N] [--loss P] [--ipv6] [--numbering per-router|per-link] [--nat KIND@HOST]... [--firewall6] [--docker] [--engines] [--json]",
  description: `Hosts and routers are network namespaces joined by veth links; routers forward with real TTL
decrements and ICMP errors, routes are shortest paths by delay. Link delays come from the delay process
(NFQUEUE), rates from tbf, loss from iptables. A second "up" with the same arguments on a healthy testbed
is a no-op; with other arguments, or if anything died, it re-creates the testbed.
--engines also starts a Docker engine inside each of those hosts (its own images and containers; socket in
"testbed status --json" as hosts[].dockerSocket), so an image can be on one IEP and not on another.
--nat KIND@HOST puts a host behind a home router: upnp (masquerade and miniupnpd: UPnP IGD, NAT-PMP/PCP),
cgnat (masqueraded twice, no mapping) or static (ports 4100, 4101 and 20000-20999 forwarded); --ipv6 makes
every link dual stack; --firewall6 (with --ipv6) makes every home router drop unsolicited inbound IPv6, as
home routers ship (upnp ones open pinholes on request: IGDv2 AddPinhole, PCP MAP; static ones pass their
forwarded ports); --numbering per-link gives each router-to-router link its own /30. They apply to any
topology, as do "nat", "firewall6", "ipv6" and "numbering" in a topology file (docs/testbed.md).
Progress goes to stderr; the status (as "testbed status") to stdout.`,
  options: {
    ...NAME_OPTION,
    ...TOPOLOGY_OPTIONS,
    loss: { type: "string", arg: "P", doc: "Drop probability on every link, each direction (e.g. 0.01)." },
    docker: { type: "boolean", doc: "Give each IEP host's namespace to a container others can join." },
    engines: { type: "boolean", doc: "Also run a Docker engine inside each IEP host (implies --docker): per-host image stores." },
    ...JSON_OPTION,
  },
  examples: ["icon testbed up", "icon testbed up --name fuzz --topology random --seed 7 --loss 0.01", "icon testbed up --docker --json", "icon testbed up --engines",
    "icon testbed up --nat upnp@IEP2 --ipv6", "icon testbed up --nat upnp@IEP2,static@UD --ipv6 --firewall6", "icon testbed up --topology random --seed 3 --numbering per-link --nat cgnat@UD1"],
  async run({ values, out }) {
    const status = await up({
      name: testbedName(values.name),
      topology: loadTopology(values),
      docker: values.docker === true,
      engines: values.engines === true,
      progress: (e, human) => out.progress(e, human),
    });
    out.data(status, () => renderStatus(status));
  },
});
