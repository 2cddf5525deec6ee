import { IconError } from "../../errors.ts";
import { status } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import { defineCommand } from "../command.ts";
import { NAME_OPTION } from "./testbed-common.ts";

export const command = defineCommand({
  name: "testbed exec",
  usage: "icon testbed exec [--name NAME] HOST -- CMD [ARGS...]",
  description: "Standard input and output are the command's; the exit status is the command's. Same as: ip netns exec NAME-HOST CMD...",
  options: { ...NAME_OPTION },
  positionals: [1, 1],
  examples: ["icon testbed exec UD -- ping -c 3 10.1.2.10", "icon testbed exec IEP1 -- ip addr"],
  async run({ values, positionals, rest }) {
    if (!rest.length) throw new IconError("USAGE", "no command given after --", "Example: icon testbed exec UD -- ping -c 1 10.1.2.10");
    const s = await status(testbedName(values.name));
    const node = positionals[0]!;
    const netns = [...s.hosts, ...s.routers].find((n) => n.name === node)?.netns;
    if (!netns)
      throw new IconError("NOT_FOUND", `no host or router "${node}" in testbed ${s.name}`, `Use one of: ${[...s.hosts, ...s.routers].map((n) => n.name).join(", ")}.`);
    const proc = Bun.spawn(["ip", "netns", "exec", netns, ...rest], { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    return await proc.exited;
  },
});
