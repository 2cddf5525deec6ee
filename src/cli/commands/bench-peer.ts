import { JSON_OPTION, defineCommand } from "../command.ts";
import { numberFlag } from "../flags.ts";
import { table } from "../output.ts";

export const command = defineCommand({
  name: "bench peer",
  usage: "icon bench peer [--handshakes N] [--mb N] [--transfers N] [--json]",
  description:
    "Measures the encrypted peer channel between two nodes in this process, over loopback: a new connection\n" +
    "(TCP, websocket upgrade, Noise handshake) until the first request is answered, and the throughput of\n" +
    "one bulk transfer (the size of an image layer) streamed as the answer to one request. Medians and spread.",
  options: {
    handshakes: { type: "string", arg: "N", doc: "New connections to time (default 1000)." },
    mb: { type: "string", arg: "N", doc: "Megabytes per bulk transfer (default 30)." },
    transfers: { type: "string", arg: "N", doc: "Bulk transfers to time (default 5)." },
    ...JSON_OPTION,
  },
  examples: ["icon bench peer", "icon bench peer --handshakes 100 --json"],
  async run({ values, out }) {
    const handshakes = numberFlag(values, "handshakes", 1000, { int: true, min: 1, max: 100_000 });
    const mb = numberFlag(values, "mb", 30, { int: true, min: 1, max: 1000 });
    const transfers = numberFlag(values, "transfers", 5, { int: true, min: 1, max: 100 });
    const { benchPeerChannel } = await import("../../bench/peer-channel.ts");
    out.info(`timing ${handshakes} new connections and ${transfers} transfers of ${mb} MB...`);
    const r = await benchPeerChannel({ handshakes, bulkBytes: mb * 1_000_000, transfers });
    const row = (name: string, s: typeof r.bulkMBps, unit: string) => [name, `${s.p50} ${unit}`, `${s.p10}-${s.p90}`, `${s.min}-${s.max}`, s.n];
    out.data(r, () => table(["measure", "median", "p10-p90", "range", "samples"], [row("connect + first request", r.connectAndRequestMs, "ms"), row(`bulk ${mb} MB`, r.bulkMBps, "MB/s")]));
  },
});
