import { writeFileSync } from "node:fs";
import { IconError } from "../../errors.ts";
import { runDelayd } from "../../testbed/delay/daemon.ts";
import { readyPath } from "../../testbed/delayd-process.ts";
import { statePath, testbedName } from "../../testbed/names.ts";
import { readState } from "../../testbed/state.ts";
import { defineCommand } from "../command.ts";
import { NAME_OPTION } from "./testbed-common.ts";

/**
 * Kernel-to-user-and-back cost of one queue pass, released early to cancel it; measured on the
 * thesis topology (README "Testbed", `icon bench testbed`).
 */
export const DEFAULT_BIAS_US = 30;

export const command = defineCommand({
  name: "testbed delayd",
  usage: "icon testbed delayd --name NAME [--bias-us N] [--rt-priority N]",
  options: {
    ...NAME_OPTION,
    "bias-us": { type: "string", arg: "N", doc: `Release packets this many µs early to cancel the queueing overhead (default ${DEFAULT_BIAS_US}).` },
    "rt-priority": { type: "string", arg: "N", doc: "SCHED_FIFO priority, 0 for none (default 50)." },
  },
  async run({ values }) {
    const name = testbedName(values.name);
    const state = readState(name);
    if (!state) throw new IconError("NOT_FOUND", `no testbed ${name}`, "The delay process is started by `icon testbed up`.");
    const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} delayd[${process.pid}] ${msg}\n`);
    runDelayd({
      namespaces: state.plan.nodes.filter((n) => n.queues.length).map((n) => ({ netns: n.netns, queues: n.queues })),
      biasUs: Number(values["bias-us"] ?? process.env.ICON_TESTBED_BIAS_US ?? DEFAULT_BIAS_US),
      rtPriority: Number(values["rt-priority"] ?? 50),
      watchFile: statePath(name),
    }, { log, ready: () => writeFileSync(readyPath(name), String(process.pid)) });
  },
});
