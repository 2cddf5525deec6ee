import { benchTestbed } from "../../bench/testbed.ts";
import { testbedName } from "../../testbed/names.ts";
import { withinGoal } from "../../testbed/ping.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";

const f = (n: number | undefined, d = 3) => (n === undefined ? undefined : n.toFixed(d));

export const command = defineCommand({
  name: "bench testbed",
  usage: "icon bench testbed [--name NAME] [--count N] [--seconds S] [--rounds N] [--keep] [--json]",
  description: `Brings up the thesis topology as testbed NAME (default "bench"), then: every host pair's RTT over N
pings (default 300) against its target (goal ±2 % or ±0.3 ms); traceroute per-hop RTTs UD→IEP1 against the
summed link delays; CPU of the delay process at 500 and 2000 packets/s each way. Run it on a quiet machine:
other load shows up as RTT spread. The load average before and after is part of the result.`,
  options: {
    name: { type: "string", arg: "NAME", doc: 'Testbed name to use (default "bench").' },
    count: { type: "string", arg: "N", doc: "Pings per host pair (default 300)." },
    seconds: { type: "string", arg: "S", doc: "Seconds per CPU measurement round (default 5)." },
    rounds: { type: "string", arg: "N", doc: "CPU measurement rounds per rate; median and least are shown (default 3)." },
    keep: { type: "boolean", doc: "Leave the testbed up afterwards." },
    ...JSON_OPTION,
  },
  async run({ values, out }) {
    const rounds = numberFlag(values, "rounds", 3, { int: true, min: 1 });
    const count = numberFlag(values, "count", 300, { int: true, min: 1 });
    const seconds = numberFlag(values, "seconds", 5, { above: 0 });
    const r = await benchTestbed({
      name: testbedName(values.name ?? "bench"), count, seconds, rounds, keep: values.keep === true,
      progress: (e, human) => out.progress(e, human),
      note: (msg) => out.progress({ type: "bench", message: msg }, msg),
    });
    out.data(r, () => [
      `thesis testbed, ${r.cores} cores, load average ${r.loadBefore.join(" ")} before, ${r.loadAfter.join(" ")} after`,
      "",
      table(["pair", "target ms", "mean ms", "mdev ms", "median", "error ms", "goal"],
        r.pings.map((p) => [`${p.from}-${p.to}`, p.targetMs, f(p.meanMs), f(p.mdevMs), f(p.medianMs), f(p.errorMs), withinGoal(p) ? "ok" : "MISSED"])),
      "",
      table(["hop", "node", "address", "target ms", "mean ms", "mdev ms", "error ms"],
        r.hops.map((h) => [h.ttl, h.node, h.address, h.targetMs, f(h.meanMs), f(h.mdevMs), f(h.meanMs === undefined ? undefined : h.meanMs - h.targetMs)])),
      "",
      `delay process idle: ${r.idleCpuPercent}% of one core`,
      table(["packets/s each way", "measured", "queue passes/s", "CPU % of one core (median)", "least", "rounds", "loss"],
        r.cpu.map((c) => [c.ppsEachWay, c.measuredPps, c.queuePassesPerSec, c.cpuPercent, c.cpuPercentMin, c.rounds.join(" "), `${c.lossPercent}%`])),
    ].join("\n"));
    return r.pingsWithinGoal ? 0 : 10;
  },
});
