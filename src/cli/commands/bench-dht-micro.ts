import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";

export const command = defineCommand({
  name: "bench dht-micro",
  usage: "icon bench dht-micro [--time MS] [--json]",
  description: "Measures the per-datagram costs of the DHT with tinybench: codec, routing table, address tokens,\nsignature checks. Prints mean, median and p99 per operation in microseconds.",
  options: { time: { type: "string", arg: "MS", doc: "Measuring time per task in ms (default 300)." }, ...JSON_OPTION },
  examples: ["icon bench dht-micro", "icon bench dht-micro --json"],
  async run({ values, out }) {
    const time = values.time === undefined ? 300 : Math.max(10, Number(values.time) || 300);
    const { runMicroBench } = await import("../../bench/dht-micro.ts");
    const results = await runMicroBench(time);
    const load = (await Bun.file("/proc/loadavg").text().catch(() => "")).split(" ").slice(0, 3).join(" ");
    out.data({ results, loadavg: load }, () =>
      table(["task", "mean us", "median us", "p99 us", "ops/s", "samples"], results.map((r) => [r.task, r.meanUs, r.medianUs, r.p99Us, r.opsPerSec, r.samples])) +
        `\nload average: ${load}`,
    );
  },
});
