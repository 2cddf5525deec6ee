import { expect, test } from "bun:test";
import { silentLogger } from "../log.ts";
import { FakeClock } from "../util/clock.ts";
import { PortMappings } from "./mappings.ts";
import { fakeRouter as router } from "../../test/support/fake-router.ts";

test("the same port outside; a taken DHT port moves to the next, a taken ICON port fails", async () => {
  const r = router({ taken: [4100, 20000] });
  const m = new PortMappings(r.mapper, new FakeClock(), silentLogger);
  expect(await m.add("dht", "udp", 4100)).toMatchObject({ internalPort: 4100, externalPort: 4101, via: "upnp" });
  expect(m.add("icon", "tcp", 20000)).rejects.toThrow("could not map TCP port 20000");
  expect(r.held.get("udp/4101")).toBe(4100);
});

test("an ICON port granted elsewhere outside is given back and refused", async () => {
  const r = router({ shift: 7 });
  const m = new PortMappings(r.mapper, new FakeClock(), silentLogger);
  expect(m.add("icon", "tcp", 20001)).rejects.toThrow("gave outside port 20008");
  await Bun.sleep(0);
  expect(r.held.size).toBe(0);
  expect(m.list()).toEqual([]);
});

test("leases are renewed at half their life, and all removed at close", async () => {
  const clock = new FakeClock();
  const r = router();
  const m = new PortMappings(r.mapper, clock, silentLogger, 100);
  await m.add("peer", "tcp", 4101);
  await m.add("icon", "tcp", 20000);
  await clock.advance(50_000);
  expect(r.calls.filter((c) => c === "map tcp 4101->4101").length).toBe(2);
  expect(m.get("tcp", 4101)?.expiresAt).toBe(clock.now() + 100_000);
  await m.remove("tcp", 20000);
  expect([...r.held.keys()]).toEqual(["tcp/4101"]);
  await m.close();
  expect(r.held.size).toBe(0);
  expect(m.list()).toEqual([]);
});
