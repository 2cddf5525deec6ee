import { answer } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { onAdmission, renderAdmission } from "./admission-common.ts";

export const command = defineCommand({
  name: "admission mode",
  usage: "icon admission mode open|allowlist [--data-dir DIR] [--json]",
  description:
    "open: this node runs any owner's ICONs as replicas (within its quotas). allowlist: only those of the\n" +
    "owners on the list, and its own. Recorded in <data-dir>/admission.json, where it overrides the\n" +
    "admission setting.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const mode = positionals[0]!;
    const view = await onAdmission(values, out, (api) => answer(api.mode.$put({ json: { mode } })), (a) => a.setMode(mode));
    out.data(view, () => renderAdmission(view));
  },
});
