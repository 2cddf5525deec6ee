import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "./resolve.ts";

const dir = mkdtempSync(join(tmpdir(), "icon-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("resolveConfig", () => {
  test("later sources win: default < file < env < flag", async () => {
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ dhtPort: 5000, peerPort: 5001, routerMask: 28 }));
    const { config, sources, files } = await resolveConfig({
      configFile: file,
      env: { ICON_PEER_PORT: "6001", ICON_ROUTER_MASK: "27" },
      flags: { routerMask: "26", dataDir: dir },
    });
    expect(config.dhtPort).toBe(5000);
    expect(sources.dhtPort).toBe("file");
    expect(config.peerPort).toBe(6001);
    expect(sources.peerPort).toBe("env");
    expect(config.routerMask).toBe(26);
    expect(sources.routerMask).toBe("flag");
    expect(config.clientPrefix).toBe(24);
    expect(files).toEqual([file]);
  });

  test("errors name the bad field and its source", async () => {
    await expect(resolveConfig({ env: { ICON_DHT_PORT: "70000" }, flags: { dataDir: dir } })).rejects.toThrow(/environment ICON_DHT_PORT: dhtPort must be at most 65535/);
    await expect(resolveConfig({ flags: { dataDir: dir, bootstrap: ["nohost"] } })).rejects.toThrow(/bootstrap .*"nohost" is not HOST:PORT/);
    await expect(resolveConfig({ flags: { dataDir: dir, dashboardListen: "127.0.0.1" } })).rejects.toThrow(/dashboardListen .*must be IPv4:PORT/);
    await expect(resolveConfig({ flags: { dataDir: dir, dashboardListen: "localhost:4180" } })).rejects.toThrow(/dashboardListen .*must be IPv4:PORT/);
    expect((await resolveConfig({ flags: { dataDir: dir, dashboardListen: "127.0.0.1:0" } })).config.dashboardListen).toBe("127.0.0.1:0");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ dhtPrt: 1 }));
    await expect(resolveConfig({ configFile: bad })).rejects.toThrow(/unknown field "dhtPrt"/);
    writeFileSync(bad, "{not json");
    await expect(resolveConfig({ configFile: bad })).rejects.toThrow(/not valid JSON/);
  });

  test("lists accept commas from the environment", async () => {
    const { config } = await resolveConfig({ env: { ICON_BOOTSTRAP: "10.0.0.1:4100, 10.0.0.2:4100" }, flags: { dataDir: dir } });
    expect(config.bootstrap).toEqual(["10.0.0.1:4100", "10.0.0.2:4100"]);
  });
});
