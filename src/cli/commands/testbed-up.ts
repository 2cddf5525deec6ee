import { readFileSync } from "node:fs";
import { IconError } from "../../errors.ts";
import { randomTopology, thesisTopology } from "../../testbed/builtin.ts";
import { up } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import { parseTopology, withLoss, type Topology } from "../../testbed/topology.ts";
import { JSON_OPTION, type CommandSpec } from "../command.ts";
import { NAME_OPTION } from "./testbed-common.ts";
import { renderStatus } from "./testbed-status.ts";

function intFlag(v: unknown, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new IconError("USAGE", `${flag} ${String(v)} is not a whole number`, `Give ${flag} a number.`);
  return n;
}

export function loadTopology(values: Record<string, unknown>): Topology {
  const which = String(values.topology ?? "thesis");
  let t: Topology;
  if (which === "thesis") t = thesisTopology();
  else if (which === "random") t = randomTopology({ seed: intFlag(values.seed, "--seed", 1), hosts: intFlag(values.hosts, "--hosts", 6) });
  else {
    let text: string;
    try {
      text = readFileSync(which, "utf8");
    } catch (e) {
      throw new IconError("NOT_FOUND", `cannot read topology file ${which}: ${(e as Error).message}`, "Give --topology thesis, random or the path of a JSON topology file.");
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new IconError("INVALID_INPUT", `topology file ${which} is not JSON: ${(e as Error).message}`, 'Fix the file; README "Testbed" describes the format.');
    }
    t = parseTopology(json, which);
  }
  if (values.loss !== undefined) t = withLoss(t, Number(values.loss));
  return t;
}

export const command: CommandSpec = {
  name: "testbed up",
  summary: "Bring up an emulated routed Internet in network namespaces (root)",
  usage: "icon testbed up [--name NAME] [--topology thesis|random|FILE] [--seed N] [--hosts N] [--loss P] [--docker] [--engines] [--json]",
  description: `Hosts and routers are network namespaces joined by veth links; routers forward with real TTL
decrements and ICMP errors, routes are shortest paths by delay. Link delays come from the delay process
(NFQUEUE), rates from tbf, loss from iptables. A second "up" with the same arguments on a healthy testbed
is a no-op; with other arguments, or if anything died, it re-creates the testbed.
--engines also starts a Docker engine inside each of those hosts (its own images and containers; socket in
"testbed status --json" as hosts[].dockerSocket), so an image can be on one IEP and not on another.
Progress goes to stderr; the status (as "testbed status") to stdout.`,
  options: {
    ...NAME_OPTION,
    topology: { type: "string", arg: "T", doc: "thesis (default), random, or a JSON topology file." },
    seed: { type: "string", arg: "N", doc: "Seed of the random topology (default 1)." },
    hosts: { type: "string", arg: "N", doc: "Hosts in the random topology: IEP1..IEPk, UD1..UDm (default 6)." },
    loss: { type: "string", arg: "P", doc: "Drop probability on every link, each direction (e.g. 0.01)." },
    docker: { type: "boolean", doc: "Give each IEP host's namespace to a container others can join." },
    engines: { type: "boolean", doc: "Also run a Docker engine inside each IEP host (implies --docker): per-host image stores." },
    ...JSON_OPTION,
  },
  examples: ["icon testbed up", "icon testbed up --name fuzz --topology random --seed 7 --loss 0.01", "icon testbed up --docker --json", "icon testbed up --engines"],
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
};
