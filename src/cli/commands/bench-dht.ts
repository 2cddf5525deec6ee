import { IconError } from "../../errors.ts";
import type { MacroReport } from "../../bench/dht.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag, optionalNumberFlag } from "../flags.ts";

function render(r: MacroReport): string {
  const rows: [string, string][] = [
    ["nodes / loss / churn", `${r.nodes} / ${r.loss} / ${r.churn}`],
    ["success rate", `${r.successRate} (${r.lookups} lookups)`],
    ["lookup ms (virtual)", `median ${r.lookupMs.median}, p90 ${r.lookupMs.p90}, p99 ${r.lookupMs.p99}, max ${r.lookupMs.max}`],
    ["p99 / median", (r.lookupMs.p99 / Math.max(r.lookupMs.median, 1e-9)).toFixed(2)],
    ["hops", `median ${r.hops.median}, p99 ${r.hops.p99}, max ${r.hops.max}`],
    ["messages per lookup", String(r.messagesPerLookup)],
    ["join", `${r.join.mode}: ${r.join.datagrams} datagrams, ${r.join.virtualMs} virtual ms, median ${r.join.medianPeers} peers`],
    ["real time", `join ${r.realMs.join} ms, lookups ${r.realMs.lookups} ms, total ${r.realMs.total} ms`],
    ["memory", `RSS ${r.memoryMb.rss} MB, heap ${r.memoryMb.heapUsed} MB`],
  ];
  return `${table(["", ""], rows).split("\n").slice(1).join("\n")}\ntimes: ${r.timeModel}\nlatency model: ${r.latencyModel}`;
}

export const command = defineCommand({
  name: "bench dht",
  usage: "icon bench dht [--nodes N] [--loss P] [--churn C] [--lookups L] [--keys K] [--join protocol|seeded] [--seed S] [--json]",
  description:
    "Runs N real DHT nodes in this process over an in-memory network with a latency model (nodes on a\n" +
    "plane, RTTs of 4-190 ms, median 69 ms) and per-datagram loss P, on a virtual clock: lookup times are simulated\n" +
    "network milliseconds, not CPU time, so a 1000-node network fits a laptop. Nodes join one by one\n" +
    "(--join seeded fills routing tables directly, for N in the tens of thousands), publish K values, then\n" +
    "random nodes look them up while C x N nodes are replaced. The goal at N=1000, P=0.05:\n" +
    "success rate >= 0.999 and p99 <= 3 x median.",
  options: {
    nodes: { type: "string", arg: "N", doc: "Nodes in the network (default 1000)." },
    loss: { type: "string", arg: "P", doc: "Per-datagram loss probability, 0-0.5 (default 0.05)." },
    churn: { type: "string", arg: "C", doc: "Fraction of nodes replaced during the lookups (default 0)." },
    lookups: { type: "string", arg: "L", doc: "Lookups to measure (default 1000)." },
    keys: { type: "string", arg: "K", doc: "Distinct values published and looked up (default min(100, L))." },
    join: { type: "string", arg: "MODE", doc: "protocol (every node joins; default) or seeded (tables filled directly).", default: "protocol" },
    seed: { type: "string", arg: "S", doc: "Random seed for placement and choices (default 1)." },
    ...JSON_OPTION,
  },
  examples: ["icon bench dht --nodes 1000 --loss 0.05 --lookups 1000 --json", "icon bench dht --nodes 200 --loss 0.05 --churn 0.2 --lookups 500", "icon bench dht --nodes 10000 --join seeded --lookups 1000"],
  async run({ values, out }) {
    const nodes = numberFlag(values, "nodes", 1000, { int: true, min: 2, max: 100_000 });
    const loss = numberFlag(values, "loss", 0.05, { min: 0, max: 0.5 });
    const churn = numberFlag(values, "churn", 0, { min: 0, max: 1 });
    const lookups = numberFlag(values, "lookups", 1000, { int: true, min: 1, max: 1_000_000 });
    const keys = optionalNumberFlag(values, "keys", { int: true, min: 1 });
    const seed = numberFlag(values, "seed", 1, { int: true });
    const join = values.join;
    if (join !== "protocol" && join !== "seeded") throw new IconError("USAGE", `--join ${join}: expected protocol or seeded`, `Run "icon bench dht --help".`);
    const { runMacroBench } = await import("../../bench/dht.ts");
    const report = await runMacroBench({ nodes, loss, churn, lookups, keys, seed, join, onProgress: (e) => out.progress(e, `${e.type} ${Object.entries(e).filter(([k]) => k !== "type").map(([k, v]) => `${k}=${v}`).join(" ")}`) });
    out.data(report, () => render(report));
  },
});
