import { clientFor, readStream } from "../../api/client.ts";
import { MAX_VALUE_BYTES } from "../../dht/dht.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "dht put",
  usage: "icon dht put [--data-dir DIR] KEY VALUE [--all] [--json]",
  description:
    "The running node signs the value, stores it at the 20 nodes closest to SHA-1(KEY) and republishes it\n" +
    `while it runs (a value expires an hour after its publisher stops). A value holds at most ${MAX_VALUE_BYTES} bytes:\n` +
    "every reply must fit one 1232-byte datagram. Returns once half of the closest nodes acknowledged it (the\n" +
    "other STOREs go on in the background), or with --all once every one answered or gave up; exits non-zero\n" +
    "unless at least half of them hold it.",
  options: {
    ...DATA_DIR_OPTION,
    all: { type: "boolean", doc: "Wait for every closest node, not only half of them, and report both." },
    ...JSON_OPTION,
  },
  positionals: [2, 2],
  examples: ["icon dht put greeting hello", "icon dht put --data-dir /tmp/n2 config/region eu-north --all --json"],
  async run({ values, positionals, out }) {
    const [key, value] = positionals as [string, string];
    const wait = values.all === true ? "all" : "quorum";
    const r = await readStream(clientFor(values).v1.dht.put.$post({ json: { key, value, wait } }), (e) => {
      if (e.type === "store" || e.type === "lookup-done") out.progress(e);
    });
    out.data(r, () => {
      const quorum = `stored "${key}" on ${r.replicas} of the ${r.targets} closest nodes (${Math.round(r.ms)} ms)`;
      if (!r.complete) return `${quorum}; the others go on in the background`;
      return `${quorum}; once all had answered (${Math.round(r.complete.ms)} ms): ${r.complete.replicas} of ${r.complete.targets}`;
    });
  },
});
