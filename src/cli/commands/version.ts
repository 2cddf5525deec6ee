import { VERSION } from "../../version.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "version",
  usage: "icon version [--json]",
  options: { ...JSON_OPTION },
  async run({ out }) {
    out.data({ version: VERSION }, () => VERSION);
  },
});
