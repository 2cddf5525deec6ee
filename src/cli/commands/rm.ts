import { answer, clientFor, nameParam } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "rm",
  usage: "icon rm NAME [--force] [--data-dir DIR] [--json]",
  options: { ...DATA_DIR_OPTION, force: { type: "boolean", short: "f", doc: "Remove it even while it runs." }, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const res = await answer(clientFor(values).v1.icons[":name"].$delete({ param: nameParam(positionals[0]!), query: values.force ? { force: "1" } : {} }));
    out.data(res, () => `removed ${res.removed}`);
  },
});
