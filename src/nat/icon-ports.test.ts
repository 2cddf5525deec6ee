import { expect, test } from "bun:test";
import { fakeRouter } from "../../test/support/fake-router.ts";
import { silentLogger } from "../log.ts";
import { FakeClock } from "../util/clock.ts";
import { IconPorts } from "./icon-ports.ts";
import { PortMappings } from "./mappings.ts";

test("a port attached during the gateway search is not waited for, and is mapped when a router is found", async () => {
  const r = fakeRouter();
  const ports = new IconPorts(silentLogger);
  await ports.attach(20000);
  await ports.attach(20001);
  await ports.detach(20001);
  expect(r.calls).toEqual([]);
  await ports.found(new PortMappings(r.mapper, new FakeClock(), silentLogger));
  expect([...r.held]).toEqual([["tcp/20000", 20000]]);
});

test("once a router is known, attach maps at once; a port the router will not give fails the attach", async () => {
  const r = fakeRouter({ taken: [20002] });
  const m = new PortMappings(r.mapper, new FakeClock(), silentLogger);
  const ports = new IconPorts(silentLogger);
  await ports.found(m);
  await ports.attach(20000);
  expect(r.held.get("tcp/20000")).toBe(20000);
  expect(ports.attach(20002)).rejects.toThrow("could not map TCP port 20002");
  await ports.detach(20000);
  expect(r.held.size).toBe(0);
});

test("a port whose ICON stops while the router is mapping it is removed again; one the router refuses leaves the others mapped", async () => {
  const r = fakeRouter({ taken: [20001] });
  const m = new PortMappings(r.mapper, new FakeClock(), silentLogger);
  const ports = new IconPorts(silentLogger);
  for (const p of [20000, 20001, 20002]) await ports.attach(p);
  const finding = ports.found(m);
  await ports.detach(20000); // the router is still answering the first AddPortMapping
  await finding;
  expect([...r.held.keys()]).toEqual(["tcp/20002"]);
  expect(m.list().map((x) => x.internalPort)).toEqual([20002]);
});
