import { status } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import { pingMatrix, withinGoal } from "../../testbed/ping.ts";
import { readState } from "../../testbed/state.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { NAME_OPTION } from "./testbed-common.ts";
import { numberFlag } from "../flags.ts";

const f = (n: number | undefined) => (n === undefined ? undefined : n.toFixed(3));

export const command = defineCommand({
  name: "testbed ping",
  usage: "icon testbed ping [--name NAME] [--count N] [--interval S] [--ipv6] [--json]",
  description: "Every host pair is pinged in parallel from the first host of the pair (from the NAT side when one host is behind NAT; between two NAT hosts, to the far home's public address, answered by its NAT). The target is twice the summed one-way link delays of the routed path; \"ok\" means within ±2 % or ±0.3 ms.",
  options: {
    ...NAME_OPTION,
    count: { type: "string", arg: "N", doc: "Pings per pair (default 20)." },
    interval: { type: "string", arg: "S", doc: "Seconds between pings (default 0.01)." },
    ipv6: { type: "boolean", doc: "Ping the hosts' IPv6 addresses (a testbed up with --ipv6)." },
    ...JSON_OPTION,
  },
  async run({ values, out }) {
    const name = testbedName(values.name);
    const count = numberFlag(values, "count", 20, { int: true, min: 1 });
    const interval = numberFlag(values, "interval", 0.01, { min: 0.0002 });
    const s = await status(name);
    const results = await pingMatrix(s, readState(name)!.plan.topology, { count, interval, ipv6: values.ipv6 === true });
    out.data({ name, count, results }, () =>
      table(["from", "to", "target ms", "mean ms", "mdev ms", "median", "min", "max", "loss", "error ms", ""],
        results.map((r) => [r.from, r.to, r.targetMs, f(r.meanMs), f(r.mdevMs), f(r.medianMs), f(r.minMs), f(r.maxMs),
          `${((1 - r.received / Math.max(r.sent, 1)) * 100).toFixed(1)}%`, f(r.errorMs), withinGoal(r) ? "ok" : "OFF"])));
    return results.every(withinGoal) ? 0 : 10;
  },
});
