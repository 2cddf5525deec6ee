import { answer } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { onAdmission, renderAdmission } from "./admission-common.ts";

export const command = defineCommand({
  name: "admission deny",
  usage: "icon admission deny KEY [--data-dir DIR] [--json]",
  description: "Takes an owner key off the list. Replicas of that owner already here keep running until they\nstop or are removed; in allowlist mode new requests for its ICONs are refused (NOT_ADMITTED).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const key = positionals[0]!;
    const view = await onAdmission(values, out, (api) => answer(api.owners[":key"].$delete({ param: { key: encodeURIComponent(key) } })), (a) => a.deny(key));
    out.data(view, () => renderAdmission(view));
  },
});
