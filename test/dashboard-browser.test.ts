/**
 * The dashboard as a person sees it, in a real browser (Debian's headless chromium, driven by
 * playwright-core): the migration lab's origin node after a cold migration, reached from this machine's
 * 127.0.0.1 through the relay `icon demo` uses. The page must show the ICON in the tree with its replica
 * on the edge, the migration in the timeline, the map's nodes, and take in a new migration without a
 * reload. It saves the README's screenshot (docs/img/dashboard.png).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { answer } from "../src/api/client.ts";
import { relayToSocket, type Relay } from "../src/dashboard/relay.ts";
import { APP_NAME, MigrationLab } from "../src/lab/lab.ts";
import { CHROMIUM, ROOT_DIR, describeWith } from "./support/needs.ts";

/** Launch flags that work on this machine's closed network (DESIGN.md, "Home network facts"). */
const FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describeWith(["root", "docker", "binary", "chromium"], "the dashboard in a real browser", () => {
  let lab: MigrationLab;
  let relay: Relay;
  let browser: Browser;
  let page: Page;
  let edgeId: string;

  beforeAll(async () => {
    lab = await MigrationLab.open({ name: "t-dash" });
    const cold = await lab.client();
    expect(cold.error).toBeUndefined();
    expect(cold.mode).toBe("cold");
    edgeId = (await answer(lab.nodes.get(lab.roles.edge).api.v1.status.$get())).nodeId;
    relay = await relayToSocket({ host: "127.0.0.1", port: 0, socketPath: lab.dashboardSocket(lab.roles.origin) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await relay?.stop();
    await lab?.close();
  }, 120_000);

  const text = (selector: string) => page.locator(selector).first().innerText({ timeout: 10_000 });
  /** The page says "live" once its first snapshot is rendered (it says "connecting" before). */
  const live = () => page.locator("[data-testid=live]", { hasText: /^live$/ }).waitFor({ timeout: 10_000 });

  test("the node, the ICON with its replica on the edge, the cold migration and the map's nodes", async () => {
    await page.goto(`http://127.0.0.1:${relay.port}/`);
    await live();
    const originId = (await answer(lab.nodes.get(lab.roles.origin).api.v1.status.$get())).nodeId;
    expect(await text("[data-testid=node]")).toContain(originId);

    const icon = `[data-testid=icon-tree] li[data-icon="${APP_NAME}"]`;
    expect(await text(icon)).toContain("RUNNING");
    const replica = await text(`${icon} li[data-node="${edgeId}"]`);
    expect(replica).toContain("running");
    expect(replica).toContain(`on node ${edgeId.slice(0, 8)}`);

    // One client, one migration: the app's second replicate (with the client's state) is a handover.
    expect(await page.locator("[data-testid=timeline] li").count()).toBe(1);
    const cold = await text('[data-testid=timeline] li[data-mode="cold"]');
    expect(cold).toContain(APP_NAME);
    expect(cold).toContain(`node ${edgeId.slice(0, 8)}`);
    expect(cold).toMatch(/KiB shipped|MiB shipped/);

    // The edge announced itself under routers on the client's path, which the origin traced.
    expect(await text(`[data-testid=map-list] li[data-kind=node][data-node="${edgeId}"]`)).toContain("announced under");
    expect(await page.locator("[data-testid=map-list] li[data-kind=router]").count()).toBeGreaterThan(0);
    expect(await page.locator("[data-testid=map-graph] canvas").count()).toBeGreaterThan(0);
  }, 60_000);

  test("a new migration appears without a reload", async () => {
    await live();
    const before = await page.locator("[data-testid=timeline] li").count();
    const direct = await lab.client();
    expect(direct.mode).toBe("direct");
    await page.locator('[data-testid=timeline] li[data-mode="direct"]').first().waitFor({ timeout: 10_000 });
    expect(await page.locator("[data-testid=timeline] li").count()).toBe(before + 1);
    // The newest comes first.
    expect(await page.locator("[data-testid=timeline] li").first().getAttribute("data-mode")).toBe("direct");
    await page.screenshot({ path: join(ROOT_DIR, "docs/img/dashboard.png") });
  }, 60_000);
});
