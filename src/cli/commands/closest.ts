import { answer, clientFor } from "../../api/client.ts";
import type { ClosestAnswer } from "../../topology/finder.ts";
import type { ClosestTimeline } from "../../topology/timeline.ts";
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
    ...(a.cached ? [] : [renderTimeline(a.timeline)]),
  ].join("\n");
}

/** Where the work's time went, in one line: the trace, the last lookup to end, the ranking. */
function renderTimeline(t: ClosestTimeline): string {
  const last = t.lookups.reduce<ClosestTimeline["lookups"][number] | undefined>((m, l) => (m && m.endMs >= l.endMs ? m : l), undefined);
  const sources = ["local", "cache", "dht"].map((s) => `${t.lookups.filter((l) => l.source === s).length} ${s}`).join(", ");
  return [
    `${t.by === "prefetch" ? "begun by a prefetch: " : ""}trace ${t.trace ? `${t.trace.endMs} ms` : "cached"}`,
    `lookups ${sources}${last ? `, the last (${last.routerId}, ${last.source}) ended at ${last.endMs} ms` : ""}`,
    `${t.measures.length} nodes measured, ranked at ${t.rankedMs} ms`,
  ].join("; ");
}

export const command = defineCommand({
  name: "closest",
  usage: "icon closest CLIENT_IP [--data-dir DIR] [--fresh] [--json]",
  description:
    "The node traces the client (or uses its trace of the client's /24), looks up every router of the path in\n" +
    "the DHT, and estimates each announcing node's RTT to the client as its RTT to the shared router plus the\n" +
    "rest of the path from that router to the client. JSON: {client, selfRttMs, reached, candidates: [{nodeId,\n" +
    "address, peerPort, estimatedRttMs, via}], elapsedMs, cached, timeline}, best first; timeline: where the time\n" +
    "went (the trace's hops, each router lookup, each node measured, the ranking, in ms since the work began).",
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
