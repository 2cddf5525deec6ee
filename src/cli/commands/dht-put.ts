import { clientFor, readStream } from "../../api/client.ts";
import { MAX_VALUE_BYTES } from "../../dht/dht.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "dht put",
  usage: "icon dht put [--data-dir DIR] KEY VALUE [--json]",
  description:
    "The running node signs the value, stores it at the 20 nodes closest to SHA-1(KEY) and republishes it\n" +
    `while it runs (a value expires an hour after its publisher stops). A value holds at most ${MAX_VALUE_BYTES} bytes:\n` +
    "every reply must fit one 1232-byte datagram. Exits non-zero unless at least half of the closest nodes\n" +
    "acknowledged it.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: [2, 2],
  examples: ["icon dht put greeting hello", "icon dht put --data-dir /tmp/n2 config/region eu-north --json"],
  async run({ values, positionals, out }) {
    const [key, value] = positionals as [string, string];
    const r = await readStream(clientFor(values).v1.dht.put.$post({ json: { key, value } }), (e) => {
      if (e.type === "store" || e.type === "lookup-done") out.progress(e);
    });
    out.data(r, () => `stored "${key}" on ${r.replicas} of the ${r.targets} closest nodes (${Math.round(r.ms)} ms)`);
  },
});
