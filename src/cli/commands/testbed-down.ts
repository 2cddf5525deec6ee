import { down } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { NAME_OPTION } from "./testbed-common.ts";

export const command = defineCommand({
  name: "testbed down",
  usage: "icon testbed down [--name NAME] [--json]",
  description: "Removes its delay process, Docker engines, namespaces, containers and state. Safe to run twice and after a crash: it works from the state file written before anything was made.",
  options: { ...NAME_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const r = await down(testbedName(values.name), (e, human) => out.progress(e, human));
    out.data(r, () => "");
  },
});
