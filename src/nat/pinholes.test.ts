import { expect, test } from "bun:test";
import { silentLogger } from "../log.ts";
import { FakeClock } from "../util/clock.ts";
import type { PinholeOpener } from "./pinhole-opener.ts";
import { Pinholes } from "./pinholes.ts";
import type { Protocol } from "./port-mapper.ts";

/** A firewall in memory: pinholes by id, `down` makes every request fail, `grant` caps the lease. */
function fakeFirewall(o: { grant?: number } = {}) {
  const open = new Map<string, string>();
  const calls: string[] = [];
  let next = 1;
  const fw = {
    down: false,
    opener: {
      via: "pcp",
      gateway: "[fe80::1%eth0]:5351",
      address: "2d00:1c0:ff01::10",
      async open(protocol: Protocol, port: number, lifetimeSec: number, id?: string) {
        calls.push(`open ${protocol} ${port} ${id ?? "new"}`);
        if (fw.down) throw new Error("no PCP answer");
        const got = id ?? String(next++);
        open.set(got, `${protocol}/${port}`);
        return { id: got, lifetimeSec: Math.min(lifetimeSec, o.grant ?? lifetimeSec) };
      },
      async remove(_p: Protocol, _port: number, id: string) {
        calls.push(`remove ${id}`);
        open.delete(id);
      },
    } satisfies PinholeOpener,
  };
  return { fw, open, calls };
}

test("a pinhole is renewed at half the lease granted, by its id, and all are closed at stop", async () => {
  const clock = new FakeClock();
  const { fw, open, calls } = fakeFirewall({ grant: 120 });
  const p = new Pinholes(fw.opener, clock, silentLogger);
  expect(await p.add("dht", "udp", 4100)).toEqual({ purpose: "dht", protocol: "udp", port: 4100, address: "2d00:1c0:ff01::10", via: "pcp", id: "1", expiresAt: clock.now() + 120_000 });
  await p.add("peer", "tcp", 4101);
  await clock.advance(59_000);
  expect(calls).toEqual(["open udp 4100 new", "open tcp 4101 new"]);
  await clock.advance(1_000);
  expect(calls.slice(2)).toEqual(["open udp 4100 1", "open tcp 4101 2"]);
  expect(p.list().map((x) => x.expiresAt)).toEqual([clock.now() + 120_000, clock.now() + 120_000]);
  await p.close();
  expect(open.size).toBe(0);
  expect(p.list()).toEqual([]);
});

test("a failed renewal is counted and tried again 30 s later; a removed pinhole is no longer renewed", async () => {
  const clock = new FakeClock();
  const { fw, calls } = fakeFirewall();
  const p = new Pinholes(fw.opener, clock, silentLogger, 100);
  await p.add("peer", "tcp", 4101);
  await p.add("icon", "tcp", 20000);
  fw.down = true;
  await clock.advance(50_000);
  expect(p.renewFailures).toBe(2);
  fw.down = false;
  await p.remove("tcp", 20000);
  await clock.advance(30_000);
  expect(calls.filter((c) => c.startsWith("open tcp 4101"))).toEqual(["open tcp 4101 new", "open tcp 4101 1", "open tcp 4101 1"]);
  expect(calls.filter((c) => c.startsWith("open tcp 20000"))).toEqual(["open tcp 20000 new", "open tcp 20000 2"]);
  expect(p.list().map((x) => x.port)).toEqual([4101]);
  expect(p.list()[0]!.expiresAt).toBe(clock.now() + 100_000);
});

test("a pinhole the router will not open fails with what to do by hand", async () => {
  const { fw } = fakeFirewall();
  fw.down = true;
  const p = new Pinholes(fw.opener, new FakeClock(), silentLogger);
  const e = await p.add("dht", "udp", 4100).catch((x) => x);
  expect(e.message).toBe("could not open UDP port 4100 in the home router's IPv6 firewall (pcp [fe80::1%eth0]:5351): no PCP answer");
  expect(e.fix).toContain("for 2d00:1c0:ff01::10");
  expect(p.list()).toEqual([]);
});

test("a pinhole removed while its renewal is under way is closed again once the router answers", async () => {
  const clock = new FakeClock();
  const { fw, open } = fakeFirewall();
  let answer!: () => void;
  const p = new Pinholes(fw.opener, clock, silentLogger, 100);
  await p.add("icon", "tcp", 20000);
  const slowOpen = fw.opener.open;
  fw.opener.open = async (...a) => {
    await new Promise<void>((r) => (answer = r));
    return slowOpen(...a);
  };
  await clock.advance(50_000); // the renewal is asked, not yet answered
  await p.remove("tcp", 20000);
  expect(open.size).toBe(0);
  answer();
  await clock.advance(0);
  expect(open.size).toBe(0); // the renewal re-created it; it was closed again
  expect(p.list()).toEqual([]);
});
