import { answer, clientFor } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";

export const command = defineCommand({
  name: "peers",
  usage: "icon peers [--data-dir DIR] [--json]",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const rows = await answer(clientFor(values).v1.peers.$get());
    out.data(rows, () =>
      rows.length
        ? table(["node", "direction", "endpoint", "since"], rows.map((r) => [r.nodeId.slice(0, 16), r.direction, r.endpoint ? `${r.endpoint.address}:${r.endpoint.port}` : undefined, r.openedAt]))
        : "no peer connections",
    );
  },
});
