import { answer } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { onAdmission, renderAdmission } from "./admission-common.ts";

export const command = defineCommand({
  name: "admission list",
  usage: "icon admission list [--data-dir DIR] [--json]",
  description:
    "The admission mode, where it comes from, and the owner keys on the list. Works with the node stopped\n" +
    '(reads <data-dir>/admission.json). --json prints {mode, modeFrom, file, owners: [{key, note, addedAt}], self, refused} (self only while the node runs).',
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const view = await onAdmission(values, out, (api) => answer(api.$get()), async (a) => a.view(), true);
    out.data(view, () => renderAdmission(view));
  },
});
