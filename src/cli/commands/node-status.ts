import { clientFor } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "node status",
  usage: "icon node status [--data-dir DIR] [--json]",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const status = await clientFor(values).get<Record<string, unknown>>("/v1/status");
    out.data(status, () =>
      Object.entries(status)
        .map(([k, v]) => `${k.padEnd(12)} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
        .join("\n"),
    );
  },
});
