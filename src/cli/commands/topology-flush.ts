import { answer, clientFor } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "topology flush",
  usage: "icon topology flush [--data-dir DIR] [--json]",
  description:
    "The node forgets the client traces (per /24) and router lookups it cached: the next client of any network is\n" +
    "traced and its routers looked up again, as at a first contact (after a network change, or to measure one).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const r = await answer(clientFor(values).v1.topology.flush.$post());
    out.data(r, () => `forgot ${r.traces} traces and ${r.lookups} router lookups`);
  },
});
