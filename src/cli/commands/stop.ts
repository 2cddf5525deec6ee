import { answer, clientFor, nameParam } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "stop",
  usage: "icon stop NAME [--data-dir DIR] [--json]",
  description: "The ICON's onTerminate handlers run first (terminate event, then SIGTERM; SIGKILL after 5 s).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const view = await answer(clientFor(values).v1.icons[":name"].stop.$post({ param: nameParam(positionals[0]!) }));
    out.data(view, () => `${view.name}: ${view.state}`);
  },
});
