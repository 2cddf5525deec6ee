/**
 * The dashboard page: one websocket to the node, which sends the whole snapshot at once and after every
 * change; each snapshot redraws the four panels (node, network map, ICONs, migrations). Read-only.
 */
import "./style.css";
import type { DashboardMessage } from "../app.ts";
import type { IconTreeView, NodeView, Snapshot } from "../snapshot.ts";
import type { MigrationRecord } from "../../peer/history.ts";
import { bytes, duration, h, ms, short } from "./dom.ts";
import { NetworkMap } from "./map.ts";

const root = document.getElementById("app")!;
const status = h("span", { class: "live off", "data-testid": "live" }, "connecting");
const title = h("span", { class: "title" }, "icon");
const panels = {
  node: h("div", { "data-testid": "node" }),
  icons: h("div", { "data-testid": "icons" }),
  migrations: h("div", { "data-testid": "migrations" }),
};
const map = new NetworkMap();
const section = (id: string, heading: string, ...body: Node[]) => h("section", { id }, h("h2", {}, heading), ...body);
root.replaceChildren(
  h("header", {}, title, status),
  h("div", { class: "grid" },
    section("node-panel", "Node", panels.node),
    section("map-panel", "Network map", map.graph, map.list),
    section("icons-panel", "ICONs", panels.icons),
    section("migrations-panel", "Migrations", panels.migrations),
  ),
);

function row(label: string, value: string | Node) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function renderNode(n: NodeView): Node[] {
  const r = n.reachability;
  const reach = `IPv4 ${r.ipv4}, IPv6 ${r.ipv6}; ${r.announced ? `announced${r.external.length ? ` at ${r.external.join(", ")}` : ""}` : r.reason ?? "announces nothing"}`;
  const dropped = Object.entries(n.dht.dropped);
  return [
    h("dl", {},
      row("node id", h("code", {}, n.nodeId)),
      row("version", n.version),
      row("uptime", duration(n.uptimeSec)),
      row("address", `${n.address} (advertised)`),
      row("listen", `${n.listen}, DHT udp ${n.dhtPort}, peers tcp ${n.peerPort}`),
      row("seen by peers", n.externalAddress ?? "not yet"),
      row("reachability", reach),
      row("peer connections", String(n.peerConnections)),
      row("docker", n.docker),
    ),
    h("h3", {}, "DHT"),
    h("dl", { class: "counters" },
      row("peers", String(n.dht.peers)),
      row("stored keys", String(n.dht.storedKeys)),
      row("datagrams rx / tx", `${n.dht.rx} / ${n.dht.tx}`),
      row("retransmits", String(n.dht.retransmits)),
      row("RPC timeouts", String(n.dht.rpcTimeouts)),
      row("lookups", String(n.dht.lookups)),
    ),
    h("h3", {}, `Dropped datagrams: ${n.dht.droppedTotal}`),
    h("table", { class: "drops" }, dropped.map(([reason, v]) => h("tr", { class: v ? "hot" : "" }, h("td", {}, reason), h("td", { class: "num" }, String(v))))),
  ];
}

function policyText(p: IconTreeView["policy"]): string {
  const parts = Object.entries(p).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(", ") : "defaults";
}

function renderIcon(i: IconTreeView, self: string): HTMLElement {
  const facts = [
    `${i.role} on this node, port ${i.port}`,
    `clients ${i.clients ?? "not reported"}`,
    `owner ${i.owner === self ? "this node's operator" : `node ${short(i.owner)}`}`,
    `policy: ${policyText(i.policy)}`,
  ];
  const parent = i.parent && h("div", { class: "parent" }, `replica of ${i.parent.icon} on node ${short(i.parent.nodeId)}`);
  const children = i.children.length
    ? h("ul", {}, i.children.map((c) =>
        h("li", { "data-replica": c.id, "data-node": c.nodeId },
          h("span", { class: `state ${c.state}` }, c.state), ` ${c.name} on node ${short(c.nodeId)}`, c.endpoint ? ` at ${c.endpoint.address}:${c.endpoint.port}` : "")))
    : null;
  return h("li", { "data-icon": i.name, "data-state": i.state },
    h("span", { class: `state ${i.state}` }, i.state), " ", h("b", {}, i.name), h("span", { class: "muted" }, ` ${i.image}`),
    parent, h("div", { class: "facts" }, facts.join(" · ")), i.reason ? h("div", { class: "reason" }, i.reason) : null, children);
}

function renderIcons(s: Snapshot): Node[] {
  if (!s.icons.length) return [h("p", { class: "muted" }, "No ICON runs on this node.")];
  return [h("ul", { class: "tree", "data-testid": "icon-tree" }, s.icons.map((i) => renderIcon(i, s.node.nodeId)))];
}

function phases(m: MigrationRecord): HTMLElement {
  const total = Math.max(m.ms.total, 1);
  const image = m.ms.image ?? 0, start = m.ms.start ?? 0;
  const other = Math.max(total - image - start, 0);
  const seg = (cls: string, v: number, what: string) => {
    const el = h("span", { class: cls, title: `${what} ${ms(v)}` });
    el.style.width = `${(100 * v) / total}%`;
    return el;
  };
  return h("div", { class: "phases" }, seg("ph-net", other, "request, answer and the target's own work"), seg("ph-image", image, "image transfer"), seg("ph-start", start, "container start to ready"));
}

function renderMigrations(list: MigrationRecord[]): Node[] {
  if (!list.length) return [h("p", { class: "muted" }, "No migration yet: replicas appear here as this node's ICONs make them.")];
  return [h("ol", { class: "timeline", "data-testid": "timeline" }, [...list].reverse().map((m) =>
    h("li", { "data-mode": m.mode, "data-ok": String(m.ok), "data-seq": String(m.seq) },
      h("time", {}, new Date(m.startedAt).toLocaleTimeString()), " ",
      h("b", {}, m.icon), ` → node ${short(m.target)} `,
      h("span", { class: `mode ${m.mode}` }, m.mode), " ",
      m.ok ? (m.ms.total ? ms(m.ms.total) : "at once (the replica ran)") : h("span", { class: "reason" }, `failed: ${m.error ?? ""}`),
      m.bytes ? ` · ${bytes(m.bytes)} shipped` : "",
      m.ok && m.ms.total > 0 ? phases(m) : null,
      m.ok && m.ms.target !== undefined ? h("div", { class: "muted small" }, `target ${ms(m.ms.target)}: image ${ms(m.ms.image)}, start ${ms(m.ms.start)}`) : null,
    )))];
}

function render(s: Snapshot): void {
  title.textContent = `icon · node ${short(s.node.nodeId)} · ${s.node.version} · up ${duration(s.node.uptimeSec)}`;
  panels.node.replaceChildren(...renderNode(s.node));
  map.update(s.node, s.map);
  panels.icons.replaceChildren(...renderIcons(s));
  panels.migrations.replaceChildren(...renderMigrations(s.migrations));
}

function connect(delayMs = 1000): void {
  const ws = new WebSocket(new URL("ws", location.href).href.replace(/^http/, "ws"));
  ws.onopen = () => {
    delayMs = 1000;
  };
  // "live" only once the first snapshot is on the page: an open socket with nothing shown yet is not live.
  ws.onmessage = (ev) => {
    const msg = JSON.parse(String(ev.data)) as DashboardMessage;
    if (msg.type !== "snapshot") return;
    render(msg.snapshot);
    status.textContent = "live";
    status.className = "live on";
  };
  ws.onclose = () => {
    status.textContent = "disconnected: retrying";
    status.className = "live off";
    setTimeout(() => connect(Math.min(delayMs * 2, 10_000)), delayMs);
  };
}
connect();
