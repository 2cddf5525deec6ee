import { IconError } from "../../errors.ts";
import { defineCommand } from "../command.ts";

/** Resolves when stdin closes: the bench's way of saying stop. */
async function stdinClosed(): Promise<void> {
  for await (const _ of Bun.stdin.stream());
}

const line = (v: unknown) => process.stdout.write(JSON.stringify(v) + "\n");

export const command = defineCommand({
  name: "bench hostile-attacker",
  usage: "icon bench hostile-attacker --spec FILE [--on-path pass|flip|inject]",
  description: "The attacker host of `icon bench hostile` (or, with --on-path, the relay in a router): runs until stdin closes, prints JSON lines.",
  options: {
    spec: { type: "string", arg: "FILE", doc: "The attacker's spec (JSON), written by icon bench hostile." },
    "on-path": { type: "string", arg: "MODE", doc: "Be the on-path relay instead, in this mode." },
  },
  async run({ values }) {
    if (!values.spec) throw new IconError("USAGE", "--spec is required");
    const spec = await Bun.file(values.spec).json();
    const mode = values["on-path"];
    if (mode) {
      if (mode !== "pass" && mode !== "flip" && mode !== "inject") throw new IconError("USAGE", `--on-path ${mode}: expected pass, flip or inject`);
      const { runOnPath } = await import("../../bench/hostile/run-on-path.ts");
      line({ type: "report", report: await runOnPath({ ...spec, mode }, () => line({ type: "ready" }), stdinClosed()) });
      return;
    }
    const { runAttacker } = await import("../../bench/hostile/run-attacker.ts");
    await runAttacker(spec, line, stdinClosed());
  },
});
