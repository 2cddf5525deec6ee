import { clientFor, nameParam, readStream } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { stateLine } from "./run.ts";

export const command = defineCommand({
  name: "start",
  usage: "icon start NAME [--data-dir DIR] [--json]",
  description: "Reuses the ICON's container and pinned port (the thesis's hot case).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const view = await readStream(clientFor(values).v1.icons[":name"].start.$post({ param: nameParam(positionals[0]!) }), (ev) => out.progress(ev, stateLine(ev)));
    out.data(view, () => `${view.name} RUNNING at ${view.address}:${view.port}`);
  },
});
