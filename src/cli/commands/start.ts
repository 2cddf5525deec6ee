import { clientFor } from "../../api/client.ts";
import type { StateEvent } from "../../yard/state.ts";
import type { IconView } from "../../yard/types.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { stateLine } from "./run.ts";

export const command = defineCommand({
  name: "start",
  usage: "icon start NAME [--data-dir DIR] [--json]",
  description: "Reuses the ICON's container and pinned port (the thesis's hot case).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals, out }) {
    const path = `/v1/icons/${encodeURIComponent(positionals[0]!)}/start`;
    const view = await clientFor(values).stream<IconView>("POST", path, {}, (ev) => out.progress(ev, stateLine(ev as unknown as StateEvent)));
    out.data(view, () => `${view.name} RUNNING at ${view.address}:${view.port}`);
  },
});
