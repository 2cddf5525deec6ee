import { answer, clientFor } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";

export const command = defineCommand({
  name: "dht peers",
  usage: "icon dht peers [--data-dir DIR] [--json]",
  description: "Every contact of the routing table: node id, address, smoothed RTT, failed RPCs in a row, and\nhow long ago it was last heard from.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  examples: ["icon dht peers", "icon dht peers --json | jq length"],
  async run({ values, out }) {
    const peers = await answer(clientFor(values).v1.dht.peers.$get());
    peers.sort((a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity));
    out.data(peers, () =>
      peers.length === 0
        ? "no peers yet (is --bootstrap set, and does that node answer?)"
        : table(
            ["node id", "address", "rtt ms", "failures", "seen"],
            peers.map((p) => [p.id.slice(0, 16), `${p.address}:${p.port}`, p.rttMs?.toFixed(2), p.failures, `${Math.round(p.lastSeenMsAgo / 1000)} s ago`]),
          ),
    );
  },
});
