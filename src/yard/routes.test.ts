/**
 * The /v1/icons routes without Docker: input checks, unknown names, and a yard whose engine does not
 * answer (the state a node is in when Docker is down). test/yard.test.ts runs ICONs through them on Docker.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { hc } from "hono/client";
import { readStream } from "../api/client.ts";
import { installErrorHandler } from "../api/http.ts";
import { resolveConfig } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { silentLogger } from "../log.ts";
import { generateIdentity } from "../identity/identity.ts";
import { YardComponent } from "./component.ts";
import { EngineComponent } from "../engine/component.ts";
import { yardRoutes } from "./routes.ts";
import { Yard } from "./yard.ts";

let dir: string;
let config: Config;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "icon-yard-routes-"));
  config = (await resolveConfig({ env: {}, flags: { dataDir: dir, engine: "external", dockerSocket: join(dir, "no-docker.sock") } })).config;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function mount(yard: () => Promise<Yard>) {
  const app = new Hono().route("/v1/icons", yardRoutes(yard));
  installErrorHandler(app);
  return { app, client: hc<typeof app>("http://icon", { fetch: app.request }) };
}

async function codeOf(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { code: string }).code];
}

describe("yard routes", () => {
  let app: Hono;
  let client: ReturnType<typeof mount>["client"];
  beforeAll(async () => {
    const { createDockerEngine } = await import("../engine/docker-engine.ts");
    const yard = new Yard({ config, nodeId: "a".repeat(40), log: silentLogger, engine: await createDockerEngine(config.dockerSocket), address: () => "127.0.0.1" });
    ({ app, client } = mount(async () => yard));
  });

  test("GET /v1/icons lists no ICONs on a new node, with or without ?all=1", async () => {
    for (const path of ["/v1/icons", "/v1/icons?all=1"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([]);
    }
  });

  test("every route that names an ICON answers 404 NOT_FOUND for an unknown one", async () => {
    const requests: [string, string][] = [["GET", ""], ["POST", "/start"], ["POST", "/stop"], ["DELETE", ""], ["GET", "/logs"]];
    for (const [method, tail] of requests) expect(await codeOf(await app.request(`/v1/icons/nope${tail}`, { method }))).toEqual([404, "NOT_FOUND"]);
  });

  test("POST /v1/icons refuses ill-typed fields with 400 before anything starts", async () => {
    const bodies = [{ image: 7 }, { image: "x", port: 80.5 }, { image: "x", env: { A: 1 } }, { image: "x", readyTimeoutSec: 0 }, { image: "x", env: ["A=1"] }];
    for (const body of bodies) expect(await codeOf(await app.request("/v1/icons", { method: "POST", body: JSON.stringify(body) }))).toEqual([400, "INVALID_INPUT"]);
    expect(await codeOf(await app.request("/v1/icons/nope/logs?tail=-1"))).toEqual([400, "INVALID_INPUT"]);
  });

  test("POST /v1/icons streams the engine's failure as the typed error", async () => {
    await expect(readStream(client.v1.icons.$post({ json: { image: "hello:1" } }))).rejects.toMatchObject({ code: "DOCKER" });
  });
});

test("while Docker is down, the yard component's routes answer 503 DOCKER with the fix", async () => {
  const engine = new EngineComponent({ config, log: silentLogger });
  await engine.start();
  const component = new YardComponent({ config, nodeId: "b".repeat(40), owner: generateIdentity(), log: silentLogger, address: () => "127.0.0.1", engine: () => engine });
  await component.start(); // starts anyway: the node stays useful without Docker
  const { app } = mount(() => component.ready());
  const res = await app.request("/v1/icons");
  const body = (await res.json()) as { code: string; fix: string };
  expect([res.status, body.code]).toEqual([503, "DOCKER"]);
  expect(body.fix).toContain("dockerSocket");
  expect(component.status().docker).toStartWith("unavailable");
  await component.stop();
});
