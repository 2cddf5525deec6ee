import { answer } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { onAdmission, renderAdmission } from "./admission-common.ts";

export const command = defineCommand({
  name: "admission allow",
  usage: "icon admission allow KEY [--note TEXT] [--data-dir DIR] [--json]",
  description:
    "Adds an owner key (64 hex digits: the ownerKey `icon node status` shows on the owner's node) to the\n" +
    "list. In allowlist mode this node then runs that owner's ICONs as replicas, whichever node asks.",
  options: { ...DATA_DIR_OPTION, note: { type: "string", arg: "TEXT", doc: "A note kept beside the key (who it is)." }, ...JSON_OPTION },
  positionals: [1, 1],
  examples: ["icon admission allow 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29 --note alice"],
  async run({ values, positionals, out }) {
    const key = positionals[0]!;
    const view = await onAdmission(values, out, (api) => answer(api.owners.$post({ json: { key, note: values.note } })), (a) => a.allow(key, values.note));
    out.data(view, () => renderAdmission(view));
  },
});
