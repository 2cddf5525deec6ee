import { answer, clientFor } from "../../api/client.ts";
import type { ClosestAnswer } from "../../topology/finder.ts";
import { requireIP } from "../../util/ipv6.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";

export function renderClosest(a: ClosestAnswer): string {
  const self = a.selfRttMs === null ? "unknown" : `${a.selfRttMs} ms${a.reached ? "" : " or more (the client did not answer)"}`;
  const rows = a.candidates.map((c, i) => [i + 1, c.nodeId.slice(0, 12), `${c.address}:${c.peerPort}`, c.estimatedRttMs, c.via]);
  return [
    `client ${a.client}: this node is ${self} away`,
    a.candidates.length ? table(["#", "node", "address", "est. RTT ms", "via router"], rows) : "no other node has announced a router on the path to this client",
    `answered in ${a.elapsedMs} ms${a.cached ? " from the caches" : ""}`,
  ].join("\n");
}

export const command = defineCommand({
  name: "closest",
  usage: "icon closest CLIENT_IP [--data-dir DIR] [--fresh] [--json]",
  description:
    "The node traces the client (or uses its trace of the client's /24), looks up every router of the path in\n" +
    "the DHT, and estimates each announcing node's RTT to the client as its RTT to the shared router plus the\n" +
    "rest of the path from that router to the client. JSON: {client, selfRttMs, reached, candidates: [{nodeId,\n" +
    "address, peerPort, estimatedRttMs, via}], elapsedMs, cached}, best first.",
  options: { ...DATA_DIR_OPTION, fresh: { type: "boolean", doc: "Trace and look up again, ignoring the node's caches." }, ...JSON_OPTION },
  positionals: [1, 1],
  examples: ["icon closest 10.1.1.10", "icon closest 192.0.2.44 --json", "icon closest 2d00:1c0:1:1::10"],
  async run({ values, positionals, out }) {
    const client = positionals[0]!;
    requireIP(client, "client");
    const a = await answer(clientFor(values).v1.closest.$get({ query: values.fresh ? { client, fresh: "1" } : { client } }));
    out.data(a, () => renderClosest(a));
  },
});
