/**
 * The dashboard's HTTP routes (read-only): the page, its script and style, the snapshot as JSON, the
 * Prometheus metrics, and the websocket that pushes a new snapshot whenever something changes
 * (server.ts). Without a token (loopback, Unix socket) only requests that name a loopback host are
 * answered, and a websocket only from a page of the same host: a web page elsewhere cannot read the
 * node through the user's browser (DNS rebinding, cross-site websockets).
 */
import type { Server } from "bun";
import { Hono, type MiddlewareHandler } from "hono";
import { installErrorHandler } from "../api/http.ts";
import { IconError } from "../errors.ts";
import { uiBundle } from "./assets.ts";
import type { Snapshot } from "./snapshot.ts";
import { requireToken } from "./token.ts";

export const WS_PATH = "/ws";

/** What the websocket sends: the whole state each time (it is small), so a page never drifts. */
export type DashboardMessage = { type: "snapshot"; snapshot: Snapshot };

export interface DashboardDeps {
  snapshot: () => Promise<Snapshot>;
  metrics: { text(): Promise<string>; contentType: string };
  /** Required on every request when set (a listener outside loopback). */
  token?: string;
  onInternal?: (e: unknown) => void;
}

type Env = { Bindings: { server?: Server<unknown> } };

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>icon dashboard</title><link rel="stylesheet" href="assets/dashboard.css"></head>
<body><main id="app"><p class="muted">Connecting to the node…</p></main><script src="assets/dashboard.js"></script></body></html>
`;

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  // The token must not leave in a Referer.
  "referrer-policy": "no-referrer",
};

const hostOf = (hostHeader: string) => hostHeader.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
const loopbackName = (h: string) => h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);

/** Without a token: loopback Host names only, and websockets only from a page of the same host. */
const loopbackOnly: MiddlewareHandler = async (c, next) => {
  const host = c.req.header("host") ?? "";
  if (!loopbackName(hostOf(host))) throw new IconError("UNAUTHORIZED", `the dashboard answers only as a loopback address, not as "${host}"`, "Open it at http://127.0.0.1:PORT/.");
  const origin = c.req.header("origin");
  if (c.req.path === WS_PATH && origin && new URL(origin).host !== host) throw new IconError("UNAUTHORIZED", `a websocket from ${origin} to the dashboard is refused`, "Open the dashboard page itself.");
  await next();
};

export function dashboardApp(d: DashboardDeps) {
  const app = new Hono<Env>();
  installErrorHandler(app, d.onInternal);
  app.use("*", async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });
  app.use("*", d.token ? requireToken(d.token) : loopbackOnly);
  app.get("/", (c) => c.html(PAGE));
  app.get("/assets/dashboard.js", async (c) => c.body((await uiBundle()).js, 200, { "content-type": "text/javascript; charset=utf-8" }));
  app.get("/assets/dashboard.css", async (c) => c.body((await uiBundle()).css, 200, { "content-type": "text/css; charset=utf-8" }));
  app.get("/api/snapshot", async (c) => c.json(await d.snapshot()));
  app.get("/metrics", async (c) => c.body(await d.metrics.text(), 200, { "content-type": d.metrics.contentType }));
  app.get(WS_PATH, (c) => {
    if (c.env?.server?.upgrade(c.req.raw, { data: undefined })) return new Response(null);
    throw new IconError("INVALID_INPUT", `${WS_PATH} takes only websocket upgrades`, "Connect with a WebSocket client.");
  });
  return app;
}
