import { expect, test } from "bun:test";
import { silentLogger } from "../log.ts";
import { FakeClock } from "../util/clock.ts";
import { Announcer } from "./announcer.ts";
import type { Directory } from "./directory.ts";
import type { TopologyMap } from "./map.ts";

test("announcements held while the node may not announce itself go out on release, and hold withdraws them", async () => {
  const clock = new FakeClock();
  let held = true;
  const published = new Set<string>();
  const directory = {
    nodeId: "me",
    announce: async (id: string) => (held ? "held" : void published.add(id)),
    withdraw: (id: string) => void published.delete(id),
  } as unknown as Directory;
  const map = { get: (id: string) => ({ routerId: id, rttMs: 5, hops: 2, lastSeen: 0 }), routers: () => [] } as unknown as TopologyMap;
  const a = new Announcer({ directory, map, periodMs: 60_000, log: silentLogger, clock });

  await a.publish(["r1", "r2"]);
  expect(a.status()).toMatchObject({ announced: 0, held: 2, pending: 0, failures: 0 });
  held = false;
  a.release();
  await clock.advance(100);
  await Bun.sleep(0);
  expect(a.status()).toMatchObject({ announced: 2, held: 0 });
  expect([...published].sort()).toEqual(["r1", "r2"]);

  a.hold();
  expect(published.size).toBe(0);
  expect(a.status()).toMatchObject({ announced: 0, held: 2 });
  await a.stop();
});
