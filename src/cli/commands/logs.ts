import { clientFor } from "../../api/client.ts";
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
    const q = new URLSearchParams();
    if (values.follow) q.set("follow", "1");
    if (tail !== undefined) q.set("tail", tail);
    const path = `/v1/icons/${encodeURIComponent(positionals[0]!)}/logs?${q}`;
    await clientFor(values).stream("GET", path, undefined, (ev) => {
      const { stream, line } = ev as unknown as { stream: "stdout" | "stderr"; line: string };
      if (out.json) process.stdout.write(JSON.stringify({ stream, line }) + "\n");
      else (stream === "stderr" ? process.stderr : process.stdout).write(line + "\n");
    });
  },
});
