import { runClient } from "../../lab/client.ts";
import { IconError } from "../../errors.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { numberFlag } from "../flags.ts";

export const command = defineCommand({
  name: "demo client",
  usage: "icon demo client ws://HOST:PORT/ws [--timeout-ms N] [--json | --events]",
  description:
    "Connects, handshakes, follows the server's migrate message to the closer replica, handshakes there and\n" +
    "checks that its state survived; time-stamps the nine phases of thesis section 4.2. Exits 1 on failure.",
  options: {
    ...JSON_OPTION,
    events: { type: "boolean", doc: "Print each phase as a JSON line as it happens, then the result line." },
    "timeout-ms": { type: "string", arg: "N", doc: "Fail when no migration completed within N ms (default 30000)." },
  },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const url = positionals[0]!;
    if (!/^wss?:\/\//.test(url)) throw new IconError("USAGE", `${url} is not a websocket URL`, "Pass ws://HOST:PORT/ws.");
    const timeoutMs = numberFlag(values, "timeout-ms", 30_000, { above: 0 });
    const events = values.events === true;
    const line = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
    const result = await runClient(url, {
      timeoutMs,
      onPhase: (phase, ms) => (events ? line({ type: "phase", phase, ms }) : out.info(`${ms.toFixed(1).padStart(9)} ms  ${phase}`)),
    });
    if (events) line({ type: "result", result });
    else out.data(result, () => (result.ok ? `switched to ${result.edge} in ${result.totalMs} ms (${result.mode})` : `failed: ${result.error}`));
    return result.ok ? 0 : 1;
  },
});
