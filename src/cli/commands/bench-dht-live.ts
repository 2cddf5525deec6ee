import type { LiveReport } from "../../bench/dht-live.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";

function render(r: LiveReport): string {
  const s = (x: LiveReport["gets"]["ms"]) => [x.median, x.p90, x.p99, x.max, (x.p99 / Math.max(x.median, 1e-9)).toFixed(2)];
  return [
    table(["ms (real)", "median", "p90", "p99", "max", "p99/median"], [
      ["put, quorum acknowledged", ...s(r.puts.quorumMs)],
      ["put, every holder answered", ...s(r.puts.completeMs)],
      ["put's lookup of the closest", ...s(r.puts.lookupMs)],
      ["get", ...s(r.gets.ms)],
    ]),
    `puts: ${r.puts.n - r.puts.failed} of ${r.puts.n} stored (median ${r.puts.medianReplicas} replicas); gets: ${r.gets.ok} of ${r.gets.n} brought back the value put.`,
    `${r.nodes} nodes on ${r.addresses}, ${r.loss * 100}% of datagrams dropped; all joined in ${r.joinMs} ms; peer RTTs median ${r.peerRttMs.median} ms, p99 ${r.peerRttMs.p99} ms; RTO (median contact) median ${r.rtoMs.joined.median} ms after the join, ${r.rtoMs.end.median} ms at the end; load average ${r.loadavg.join(" ")}.`,
  ].join("\n");
}

export const command = defineCommand({
  name: "bench dht-live",
  usage: "icon bench dht-live [--nodes N] [--loss P] [--puts N] [--gets N] [--seed S] [--json]",
  description:
    "Starts N real nodes (icon node start) on loopback, node i on 127.77.i.1 (a /24 each), drops a fraction P\n" +
    "of the UDP datagrams between them with one iptables rule (removed afterwards), waits until every node knows\n" +
    "its peers, then times puts from random nodes through their local API (until a quorum of the closest nodes\n" +
    "acknowledged, and until all answered) and gets from other nodes (a get counts when it brings back the value).\n" +
    "Needs root. Goals at N=30, P=0.05: put p99 <= 3 x put median, get p99 <= 100 ms.",
  options: {
    nodes: { type: "string", arg: "N", doc: "Node processes (default 30)." },
    loss: { type: "string", arg: "P", doc: "Fraction of datagrams dropped, 0-0.5 (default 0.05)." },
    puts: { type: "string", arg: "N", doc: "Puts to time (default 300)." },
    gets: { type: "string", arg: "N", doc: "Gets to time (default 300)." },
    seed: { type: "string", arg: "S", doc: "Seed of the choice of nodes and keys (default 1)." },
    ...JSON_OPTION,
  },
  examples: ["icon bench dht-live", "icon bench dht-live --nodes 30 --loss 0.1 --json > live.json"],
  async run({ values, out }) {
    const nodes = numberFlag(values, "nodes", 30, { int: true, min: 2, max: 250 });
    const loss = numberFlag(values, "loss", 0.05, { min: 0, max: 0.5 });
    const puts = numberFlag(values, "puts", 300, { int: true, min: 1, max: 100_000 });
    const gets = numberFlag(values, "gets", 300, { int: true, min: 0, max: 100_000 });
    const seed = numberFlag(values, "seed", 1, { int: true });
    const { benchDhtLive } = await import("../../bench/dht-live.ts");
    const report = await benchDhtLive({ nodes, loss, puts, gets, seed, progress: (h) => out.progress({ type: "bench", message: h }, h) });
    out.data(report, () => render(report));
  },
});
