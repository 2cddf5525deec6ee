/**
 * The network map: this node, the routers its traces passed (chained by hop count along the traced
 * paths) and the nodes that announced themselves under them, with RTTs. Drawn with cytoscape; the same
 * facts are listed below the graph as text. The layout runs again only when the set of nodes and edges
 * changes, so a refresh does not move the picture.
 */
import cytoscape from "cytoscape";
import type { MapView, NodeView } from "../snapshot.ts";
import { h, short } from "./dom.ts";

type Element = cytoscape.ElementDefinition;

const COLUMN = 130;
const ROW = 80;

/**
 * Left to right by distance: this node, then the routers in columns by hop count (chained along the
 * traced paths); each other node below the router it is nearest to. Every node's edges to the routers
 * it announced under are drawn; the RTT is written on the nearest one only.
 */
export function elementsOf(self: NodeView, map: MapView): Element[] {
  const els: Element[] = [{ data: { id: "self", label: `this node\n${self.address}` }, classes: "self", position: { x: 0, y: 0 } }];
  const rows = new Map<number, number>();
  const place = (column: number) => {
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    // 0, +1, -1, +2, -2...: each column grows around the middle line
    return { x: column * COLUMN, y: (row % 2 ? 1 : -1) * Math.ceil(row / 2) * ROW };
  };
  const routers = map.routers;
  const peers = new Map<string, { label: string; nearest: MapView["routers"][number]; rttMs: number }>();
  for (const r of routers) {
    els.push({ data: { id: `r:${r.routerId}`, label: `${r.routerId}\n${r.rttMs.toFixed(1)} ms · ${r.hops} hops` }, classes: "router", position: place(r.hops) });
    // The router one hop nearer on the same traced path, else any one hop nearer, else this node.
    const parent = routers.find((p) => p.hops === r.hops - 1 && p.via === r.via) ?? routers.find((p) => p.hops === r.hops - 1);
    els.push({ data: { id: `e:${r.routerId}`, source: parent ? `r:${parent.routerId}` : "self", target: `r:${r.routerId}`, label: "" }, classes: "path" });
    for (const n of r.nodes) {
      const known = peers.get(n.nodeId);
      if (!known || n.rttMs < known.rttMs) peers.set(n.nodeId, { label: `node ${short(n.nodeId)}\n${n.address}`, nearest: r, rttMs: n.rttMs });
    }
  }
  // Below the lowest router, one row per node in a column.
  const below = Math.ceil(Math.max(0, ...rows.values()) / 2) + 1;
  const stacked = new Map<number, number>();
  for (const [id, p] of peers) {
    const column = p.nearest.hops;
    const n = stacked.get(column) ?? 0;
    stacked.set(column, n + 1);
    els.push({ data: { id: `n:${id}`, label: p.label }, classes: "peer", position: { x: column * COLUMN, y: (below + 0.5 + n) * ROW } });
    for (const r of routers) {
      const a = r.nodes.find((n) => n.nodeId === id);
      if (a) els.push({ data: { id: `a:${r.routerId}:${id}`, source: `r:${r.routerId}`, target: `n:${id}`, label: r === p.nearest ? `${a.rttMs.toFixed(1)} ms` : "" }, classes: r === p.nearest ? "announce nearest" : "announce" });
    }
  }
  return els;
}

const STYLE: cytoscape.StylesheetJson = [
  { selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "font-size": 11, color: "#d8dee9", "text-valign": "bottom", "text-margin-y": 4, width: 18, height: 18 } },
  { selector: "node.self", style: { "background-color": "#88c0d0", shape: "star", width: 30, height: 30 } },
  { selector: "node.router", style: { "background-color": "#5e81ac", shape: "round-rectangle" } },
  { selector: "node.peer", style: { "background-color": "#a3be8c", shape: "ellipse", width: 24, height: 24 } },
  { selector: "edge", style: { width: 1.5, "line-color": "#4c566a", "curve-style": "bezier", label: "data(label)", "font-size": 11, color: "#ebcb8b", "text-background-color": "#2e3440", "text-background-opacity": 1 } },
  { selector: "edge.announce", style: { "line-style": "dashed", "line-color": "#a3be8c", opacity: 0.35 } },
  { selector: "edge.announce.nearest", style: { opacity: 1, width: 2 } },
];

export class NetworkMap {
  private cy?: cytoscape.Core;
  private signature = "";
  readonly graph = h("div", { class: "graph", "data-testid": "map-graph" });
  readonly list = h("ul", { class: "map-list", "data-testid": "map-list" });

  update(self: NodeView, map: MapView): void {
    const els = elementsOf(self, map);
    this.updateList(self, map);
    const signature = els.map((e) => e.data.id).join(",");
    if (signature === this.signature && this.cy) {
      for (const e of els) this.cy.getElementById(e.data.id!).data("label", e.data.label);
      return;
    }
    this.signature = signature;
    this.cy?.destroy();
    this.cy = cytoscape({ container: this.graph, elements: els, style: STYLE, layout: { name: "preset", padding: 30 }, maxZoom: 1.6 });
  }

  private updateList(self: NodeView, map: MapView): void {
    const items = [h("li", { "data-kind": "self" }, h("b", {}, "this node"), ` ${short(self.nodeId)} at ${self.address}`)];
    if (map.off) items.push(h("li", { class: "muted" }, `topology discovery is off: ${map.off}`));
    else if (!map.routers.length) items.push(h("li", { class: "muted" }, "no router traced yet (traces start when the DHT talks to other nodes or a client connects)"));
    const nodes = new Map<string, { address: string; under: string[] }>();
    for (const r of map.routers) {
      items.push(h("li", { "data-kind": "router", "data-router": r.routerId }, `router ${r.routerId} (${r.address}): ${r.rttMs.toFixed(1)} ms, ${r.hops} hops${r.announced ? ", announced" : ""}`));
      for (const n of r.nodes) {
        const e = nodes.get(n.nodeId) ?? { address: n.address, under: [] };
        e.under.push(`${r.routerId} ${n.rttMs.toFixed(1)} ms`);
        nodes.set(n.nodeId, e);
      }
    }
    for (const [id, n] of nodes) items.push(h("li", { "data-kind": "node", "data-node": id }, `node ${short(id)} at ${n.address}, announced under ${n.under.join(", ")}`));
    this.list.replaceChildren(...items);
  }
}
