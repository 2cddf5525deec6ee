import { VERSION } from "../../version.ts";
import { JSON_OPTION, type CommandSpec } from "../command.ts";

export const command: CommandSpec = {
  name: "version",
  summary: "Print the version of this binary",
  usage: "icon version [--json]",
  options: { ...JSON_OPTION },
  async run({ out }) {
    out.data({ version: VERSION }, () => VERSION);
  },
};
