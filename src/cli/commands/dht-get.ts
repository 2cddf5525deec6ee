import { clientFor, readStream } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "dht get",
  usage: "icon dht get [--data-dir DIR] KEY [--json]",
  description:
    "Prints the newest value stored under KEY (from the node's own store when it holds the key, otherwise\n" +
    "by an iterative lookup). With --json prints {\"key\", \"value\"}. Exits 1 when no value is found.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  examples: ["icon dht get greeting", "icon dht get greeting --json"],
  async run({ values, positionals, out }) {
    const key = positionals[0]!;
    const r = await readStream(clientFor(values).v1.dht.get.$post({ json: { key } }), (e) => {
      if (e.type === "lookup-done") out.progress(e);
    });
    out.info(r.source === "local" ? "found in this node's store" : `found at ${r.source} after ${r.hops} hop${r.hops === 1 ? "" : "s"}, ${r.ms} ms`);
    out.data(r.encoding ? { key: r.key, value: r.value, encoding: r.encoding } : { key: r.key, value: r.value }, () => r.value);
  },
});
