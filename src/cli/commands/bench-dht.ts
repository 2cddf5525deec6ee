import { closeSync, openSync, writeSync } from "node:fs";
import { IconError } from "../../errors.ts";
import type { MacroReport } from "../../bench/dht.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { choiceFlag, numberFlag, optionalNumberFlag } from "../flags.ts";

function render(r: MacroReport): string {
  const rows: [string, string][] = [
    ["nodes / loss / churn", `${r.nodes} / ${r.loss} / ${r.churn}`],
    ["success rate", `${r.successRate} (${r.lookups} lookups)`],
    ["lookup ms (virtual)", `median ${r.lookupMs.median}, p90 ${r.lookupMs.p90}, p99 ${r.lookupMs.p99}, max ${r.lookupMs.max}`],
    ["p99 / median", (r.lookupMs.p99 / Math.max(r.lookupMs.median, 1e-9)).toFixed(2)],
    ["hops", `median ${r.hops.median}, p99 ${r.hops.p99}, max ${r.hops.max}`],
    ["messages per lookup", String(r.messagesPerLookup)],
    ["puts (virtual ms)", `${r.puts.keys} at once: quorum median ${r.puts.quorumMs.median}, p99 ${r.puts.quorumMs.p99}; all answered median ${r.puts.completeMs.median}, p99 ${r.puts.completeMs.p99}; ${r.puts.medianReplicas} replicas`],
    ["datagrams lost", `${r.datagrams.lostFraction} of ${r.datagrams.sent} (measured)`],
    ["join", `${r.join.mode}: ${r.join.datagrams} datagrams, ${r.join.virtualMs} virtual ms, median ${r.join.medianPeers} peers`],
    ["real time", `join ${r.realMs.join} ms, lookups ${r.realMs.lookups} ms, total ${r.realMs.total} ms`],
    ["memory", `RSS ${r.memoryMb.rss} MB, heap ${r.memoryMb.heapUsed} MB`],
  ];
  return `${table(["", ""], rows).split("\n").slice(1).join("\n")}\ntimes: ${r.timeModel}\nlatency model: ${r.latencyModel}\nloss model: ${r.lossModel}\nseed: ${r.seed}`;
}

export const command = defineCommand({
  name: "bench dht",
  usage: "icon bench dht [--nodes N] [--loss P] [--loss-model independent|bursty] [--latency uniform|lognormal] [--churn C] [--lookups L] [--keys K] [--join protocol|seeded] [--seed S] [--out FILE] [--json]",
  description:
    "Runs N real DHT nodes in this process over an in-memory network on a virtual clock: lookup times are\n" +
    "simulated network milliseconds, not CPU time, so a 1000-node network fits a laptop. Latency: uniform (nodes\n" +
    "on a plane, RTTs of 4-190 ms, median 69 ms) or lognormal (pair RTTs fitted to a published Internet RTT\n" +
    "distribution, median 133 ms, 99th percentile 503 ms, plus queueing per datagram). Loss: a fraction P of\n" +
    "datagrams, independent or in bursts (Gilbert-Elliott on every access link). Nodes join one by one (--join\n" +
    "seeded fills routing tables directly, for N in the tens of thousands), publish K values, then random nodes\n" +
    "look them up while C x N nodes are replaced; a lookup succeeds when it brings back the value put. The same\n" +
    "seed gives the same figures. The goal at N=1000, P=0.05: success rate >= 0.999 and p99 <= 3 x median.",
  options: {
    nodes: { type: "string", arg: "N", doc: "Nodes in the network (default 1000)." },
    loss: { type: "string", arg: "P", doc: "Fraction of datagrams lost, 0-0.5 (default 0.05)." },
    "loss-model": { type: "string", arg: "MODEL", doc: "independent (every datagram alike; default) or bursty (Gilbert-Elliott, 200 ms bursts on access links)." },
    latency: { type: "string", arg: "MODEL", doc: "uniform (a plane, RTT 4-190 ms; default) or lognormal (heavy-tailed, fitted to CAIDA Ark RTTs)." },
    churn: { type: "string", arg: "C", doc: "Fraction of nodes replaced during the lookups (default 0)." },
    lookups: { type: "string", arg: "L", doc: "Lookups to measure (default 1000)." },
    keys: { type: "string", arg: "K", doc: "Distinct values published and looked up (default min(100, L))." },
    join: { type: "string", arg: "MODE", doc: "protocol (every node joins; default) or seeded (tables filled directly, then every node pings its contacts)." },
    seed: { type: "string", arg: "S", doc: "Seed of every random choice: identities, placement, loss, lookups (default 1)." },
    out: { type: "string", arg: "FILE", doc: "Write every lookup as a JSON line: key, from, ms, hops, ok (aborted: its node died; outage: its node's link was in a Bad period when it started)." },
    ...JSON_OPTION,
  },
  examples: [
    "icon bench dht --nodes 1000 --loss 0.05 --lookups 1000 --json",
    "icon bench dht --nodes 1000 --latency lognormal --loss-model bursty --out lookups.jsonl",
    "icon bench dht --nodes 200 --loss 0.05 --churn 0.2 --lookups 500",
    "icon bench dht --nodes 10000 --join seeded --lookups 1000",
  ],
  async run({ values, out }) {
    const nodes = numberFlag(values, "nodes", 1000, { int: true, min: 2, max: 100_000 });
    const loss = numberFlag(values, "loss", 0.05, { min: 0, max: 0.5 });
    const churn = numberFlag(values, "churn", 0, { min: 0, max: 1 });
    const lookups = numberFlag(values, "lookups", 1000, { int: true, min: 1, max: 1_000_000 });
    const keys = optionalNumberFlag(values, "keys", { int: true, min: 1 });
    const seed = numberFlag(values, "seed", 1, { int: true });
    const join = choiceFlag(values, "join", ["protocol", "seeded"], "protocol");
    const latency = choiceFlag(values, "latency", ["uniform", "lognormal"], "uniform");
    const lossModel = choiceFlag(values, "loss-model", ["independent", "bursty"], "independent");
    const file = values.out === undefined ? undefined : openOut(values.out as string);
    const { runMacroBench } = await import("../../bench/dht.ts");
    const report = await runMacroBench({
      nodes, loss, churn, lookups, keys, seed, join, latency, lossModel,
      onLookup: file === undefined ? undefined : (l) => writeSync(file, JSON.stringify(l) + "\n"),
      onProgress: (e) => out.progress(e, `${e.type} ${Object.entries(e).filter(([k]) => k !== "type").map(([k, v]) => `${k}=${v}`).join(" ")}`),
    });
    if (file !== undefined) closeSync(file);
    out.data(report, () => render(report));
  },
});

/** Opens --out before the (long) run, so a bad path fails at once. */
function openOut(path: string): number {
  try {
    return openSync(path, "w");
  } catch (e) {
    throw new IconError("USAGE", `--out ${path}: ${(e as Error).message}`, "Give --out a file in a directory that exists and is writable.");
  }
}
