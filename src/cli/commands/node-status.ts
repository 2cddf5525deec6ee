import { answer, clientFor } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

const flat = (v: unknown): string =>
  v !== null && typeof v === "object" ? Object.entries(v).map(([k, x]) => `${k}=${flat(x)}`).join(" ") : String(v);

/** The node's own fields, then one section per component (dht, peer, topology, yard). */
export function renderStatus(status: object): string {
  return Object.entries(status)
    .flatMap(([k, v]) =>
      v !== null && typeof v === "object" ? [`${k}:`, ...Object.entries(v).map(([k2, v2]) => `  ${k2.padEnd(16)} ${flat(v2)}`)] : [`${k.padEnd(18)} ${v}`],
    )
    .join("\n");
}

export const command = defineCommand({
  name: "node status",
  usage: "icon node status [--data-dir DIR] [--json]",
  description:
    "The node's id, version, data dir, advertised address and bound ports, then the status of each of its\n" +
    "parts under its own key: dht (routing table, stored keys, traffic and drop counters), peer (connections,\n" +
    "inbound sockets, endpoints known and claimed, refusals by reason), topology, yard.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  async run({ values, out }) {
    const status = await answer(clientFor(values).v1.status.$get());
    out.data(status, () => renderStatus(status));
  },
});
