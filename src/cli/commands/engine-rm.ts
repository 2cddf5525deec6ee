import { defaultDataDir, nodeAnswers } from "../../api/client.ts";
import { IconError } from "../../errors.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "engine rm",
  usage: "icon engine rm [--data-dir DIR] [--json]",
  description:
    "Removes the Docker engine of the node with this data dir (engine own): its ICON containers, the images\n" +
    "it holds, its data root under /var/lib/icon/engines/, its bridge and firewall chains, and whatever a\n" +
    "crash left of it (processes, mounts). The node must be stopped; its data dir (identity, records) stays,\n" +
    "and its next start makes a new, empty engine. --json prints {dataRoot, removed}.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const dataDir = defaultDataDir(values["data-dir"]);
    if (await nodeAnswers(dataDir))
      throw new IconError("CONFLICT", `a node is running with data dir ${dataDir}`, `Stop it first (its service, or SIGTERM), then run icon engine rm again.`);
    const { removeOwnEngine } = await import("../../engine/own/own-engine.ts");
    const r = await removeOwnEngine(dataDir);
    out.data(r, () => (r.removed ? `removed the engine of ${dataDir} (${r.dataRoot})` : `the node of ${dataDir} has no engine of its own`));
  },
});
