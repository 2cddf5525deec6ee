import { IconError } from "../../errors.ts";
import { inHost } from "../../testbed/index.ts";
import { status } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import { defineCommand } from "../command.ts";
import { NAME_OPTION } from "./testbed-common.ts";

export const command = defineCommand({
  name: "testbed exec",
  usage: "icon testbed exec [--name NAME] HOST -- CMD [ARGS...]",
  description:
    "Standard input and output are the command's; the exit status is the command's. Same as:\n" +
    "nsenter --net=/run/netns/NAME-HOST CMD... (only the network namespace changes, so a node started\n" +
    "there can start its own Docker engine).",
  options: { ...NAME_OPTION },
  positionals: [1, 1],
  examples: ["icon testbed exec UD -- ping -c 3 10.1.2.10", "icon testbed exec IEP1 -- ip addr"],
  async run({ values, positionals, rest }) {
    if (!rest.length) throw new IconError("USAGE", "no command given after --", "Example: icon testbed exec UD -- ping -c 1 10.1.2.10");
    const s = await status(testbedName(values.name));
    const proc = Bun.spawn(inHost(s, positionals[0]!, rest), { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    return await proc.exited;
  },
});
