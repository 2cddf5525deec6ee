import { afterAll, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../util/clock.ts";
import { createLogger } from "../log.ts";
import { loadState, saveState, type DhtState } from "./persistence.ts";
import { StateKeeper } from "./state-keeper.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function statePath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "icon-dht-state-"));
  dirs.push(dir);
  return join(dir, "dht.json");
}

const state = (port: number): DhtState => ({ nodeId: "ab".repeat(20), port, contacts: [], published: [] });

test("overlapping saves of dht.json both succeed and leave one whole file, no temporary ones", async () => {
  const path = await statePath();
  await Promise.all(Array.from({ length: 8 }, (_, i) => saveState(path, state(4100 + i))));
  expect((await loadState(path))!.port).toBeGreaterThanOrEqual(4100);
  expect(await readdir(join(path, ".."))).toEqual(["dht.json"]);
});

test("the state keeper writes overlapping saves in order: the last state asked for is the one kept", async () => {
  const path = await statePath();
  let port = 4100;
  const lines: string[] = [];
  const log = createLogger({ level: "warn", write: (l) => lines.push(l) });
  const keeper = new StateKeeper({ path, clock: new FakeClock(), log, collect: () => state(port++) });
  keeper.start();
  await Promise.all([keeper.save(true), keeper.save(true), keeper.stop()]);
  expect(lines).toEqual([]); // no "could not save"
  expect((await loadState(path))!.port).toBe(4102);
});
