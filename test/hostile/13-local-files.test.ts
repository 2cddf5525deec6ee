/**
 * Finding 13, local files: another user of the home computer reads the node's key or an ICON's env, or
 * drives the node through its API socket.
 * - The node made its data dir 0700 only when it created it: a directory that already existed (made by
 *   hand, by a package, by an older version) kept whatever mode it had, e.g. 0755.
 * - The identity file and the API socket were created with the process's umask and chmod'ed afterwards:
 *   between the two another user can open the key (an open descriptor survives the chmod).
 * - ICON records, which hold each ICON's env (its secrets), were written with the umask's mode.
 * The creation window is caught with inotify: a chmod after creation shows as IN_ATTRIB on the name.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeLocalFiles } from "../../src/bench/hostile/local-files.ts";
import { serveApi } from "../../src/api/server.ts";
import { resolveConfig } from "../../src/config/resolve.ts";
import { loadOrCreateIdentity } from "../../src/identity/identity.ts";
import { silentLogger } from "../../src/log.ts";
import { IconNode } from "../../src/node/node.ts";
import { IconStore } from "../../src/yard/store.ts";
import type { IconRecord } from "../../src/yard/types.ts";
import { watchDir } from "./support/inotify.ts";

const mode = async (p: string) => (await stat(p)).mode & 0o777;
let dir: string;
let umask: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "icon-hostile13-"));
  // The most permissive umask: whatever a file is created with shows in full.
  umask = process.umask(0);
});
afterEach(async () => {
  process.umask(umask);
  await rm(dir, { recursive: true, force: true });
});

describe("finding 13: local files", () => {
  test("an existing data dir open to other users is closed (0700) when the node opens it", async () => {
    const dataDir = join(dir, "data");
    await mkdir(dataDir, { mode: 0o755 });
    const { config } = await resolveConfig({ flags: { dataDir }, env: {} });
    await IconNode.create(config, silentLogger);
    expect((await mode(dataDir)).toString(8)).toBe("700");
    expect(await probeLocalFiles(dataDir)).toEqual([]);
  });

  test("the identity file is created 0600, never chmod'ed after it exists", async () => {
    const w = watchDir(dir);
    try {
      await loadOrCreateIdentity(dir);
      const ev = w.events();
      expect(ev.created).toContain("identity.json");
      expect(ev.attrib).not.toContain("identity.json");
    } finally {
      w.close();
    }
    expect((await mode(join(dir, "identity.json"))).toString(8)).toBe("600");
  });

  test("the API socket is bound with its final mode, never chmod'ed after it exists", async () => {
    const w = watchDir(dir);
    const api = await serveApi(new Hono(), dir);
    try {
      const ev = w.events();
      expect(ev.created).toContain("icon.sock");
      expect(ev.attrib).not.toContain("icon.sock");
      expect((await mode(api.socketPath)) & 0o077).toBe(0);
    } finally {
      w.close();
      await api.stop();
    }
  });

  test("an ICON record, which holds the ICON's env, is written 0600", async () => {
    const store = new IconStore(dir, silentLogger);
    const rec = { name: "web", image: "app:1", role: "root", port: 8080, env: { API_TOKEN: "secret" }, user: "", createdAt: "", children: [], policy: {}, lastState: "STOPPED", limits: { memoryBytes: 2 ** 28, cpus: 1, pids: 256 } } as IconRecord;
    await store.prepare("web");
    await store.save(rec);
    expect((await mode(join(store.dir("web"), "icon.json"))).toString(8)).toBe("600");
  });
});
