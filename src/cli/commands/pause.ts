import { answer, clientFor, nameParam } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "pause",
  usage: "icon pause NAME [--data-dir DIR] [--json]",
  description: "The container is frozen (docker pause): it keeps its memory, sockets and port; \"icon start NAME\" thaws it.\n" +
    "An idle replica is paused by its policy (idleStopSec), and stopped after pausedSec.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const view = await answer(clientFor(values).v1.icons[":name"].pause.$post({ param: nameParam(positionals[0]!) }));
    out.data(view, () => `${view.name}: ${view.state}`);
  },
});
