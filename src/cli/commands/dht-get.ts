import { clientFor, readStream } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "dht get",
  usage: "icon dht get [--data-dir DIR] KEY [--publisher NODE_ID] [--json]",
  description:
    "Prints the newest value a publisher stored under KEY: this node's own, or with --publisher another\n" +
    "node's (every node has its own KEY: nobody can overwrite or hide another's value). From the node's own\n" +
    "store when it holds the key, otherwise by an iterative lookup. With --json prints {\"key\", \"value\",\n" +
    "\"publisher\"}. Exits 1 when no value is found.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION, publisher: { type: "string", arg: "NODE_ID", doc: "Whose value to read (a node id, as icon node status prints it); this node's own by default." } },
  positionals: [1, 1],
  examples: ["icon dht get greeting", "icon dht get greeting --publisher 3f2a...(40 hex digits) --json"],
  async run({ values, positionals, out }) {
    const key = positionals[0]!;
    const publisher = values.publisher;
    const r = await readStream(clientFor(values).v1.dht.get.$post({ json: { key, ...(publisher ? { publisher } : {}) } }), (e) => {
      if (e.type === "lookup-done") out.progress(e);
    });
    out.info(r.source === "local" ? "found in this node's store" : `found at ${r.source} after ${r.hops} hop${r.hops === 1 ? "" : "s"}, ${r.ms} ms`);
    out.data({ key: r.key, value: r.value, ...(r.encoding ? { encoding: r.encoding } : {}), publisher: r.publisher }, () => r.value);
  },
});
