import { answer, clientFor } from "../../api/client.ts";
import type { TopologySnapshot } from "../../topology/topology.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";

type Answer = TopologySnapshot & { settings: Record<string, unknown> };

function ago(ms: number | undefined): string | undefined {
  if (ms === undefined) return undefined;
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

export function renderTopology(t: Answer): string {
  const rows = t.routers.map((r) => [r.routerId, r.address, r.rttMs.toFixed(3), r.hops, r.via, ago(r.announcedAt) ?? "not yet"]);
  const h = t.harvest;
  return [
    t.routers.length ? table(["routerId", "address", "rtt ms", "hops", "seen on the way to", "announced"], rows) : "no routers yet: the node traces the addresses its DHT talks to",
    "",
    `${t.routers.length} routers, ${t.announcer.announced} announced (every ${t.announcer.periodSec}s, valid ${t.announcer.lifetimeSec}s, ${t.announcer.failures} failures); ` +
      `${t.cachedTraces} cached traces; traces run ${h.traced}, failed ${h.failed}, queued ${h.queued}, running ${h.running}`,
  ].join("\n");
}

export const command = defineCommand({
  name: "topology",
  usage: "icon topology [--data-dir DIR] [--json]",
  description:
    "Every router the node's traces have passed, named by its routerId (address masked to routerMask bits,\n" +
    "/29 by default), with this node's RTT and hop count to it: what the node announces in the DHT.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  examples: ["icon topology", "icon topology --json | jq '.routers[].routerId'"],
  async run({ values, out }) {
    const t = await answer(clientFor(values).v1.topology.$get());
    out.data(t, () => renderTopology(t));
  },
});
