import { clientFor } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";

interface PeerRow {
  nodeId: string;
  direction: "in" | "out";
  endpoint: { address: string; port: number } | null;
  openedAt: string;
}

export const command = defineCommand({
  name: "peers",
  usage: "icon peers [--data-dir DIR] [--json]",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const rows = await clientFor(values).get<PeerRow[]>("/v1/peers");
    out.data(rows, () =>
      rows.length
        ? table(["node", "direction", "endpoint", "since"], rows.map((r) => [r.nodeId.slice(0, 16), r.direction, r.endpoint ? `${r.endpoint.address}:${r.endpoint.port}` : undefined, r.openedAt]))
        : "no peer connections",
    );
  },
});
