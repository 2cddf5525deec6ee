import { clientFor, nameParam, readStream } from "../../api/client.ts";
import { IconError } from "../../errors.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "logs",
  usage: "icon logs NAME [-f] [--tail N] [--data-dir DIR] [--json]",
  description: 'With --json, one {"stream", "line"} object per line on stdout.',
  options: {
    ...DATA_DIR_OPTION,
    follow: { type: "boolean", short: "f", doc: "Keep printing new lines until the ICON stops (Ctrl-C to quit)." },
    tail: { type: "string", arg: "N", doc: "Only the last N lines." },
    ...JSON_OPTION,
  },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const tail = values.tail;
    if (tail !== undefined && !/^\d+$/.test(tail)) throw new IconError("USAGE", `--tail ${tail}: expected a number of lines`, "Pass e.g. --tail 20.");
    const query = { tail, follow: values.follow ? ("1" as const) : undefined };
    await readStream(clientFor(values).v1.icons[":name"].logs.$get({ param: nameParam(positionals[0]!), query }), ({ stream, line }) => {
      if (out.json) process.stdout.write(JSON.stringify({ stream, line }) + "\n");
      else (stream === "stderr" ? process.stderr : process.stdout).write(line + "\n");
    });
  },
});
