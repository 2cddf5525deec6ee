import { afterEach, expect, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import { fakeIgd } from "../../test/support/fake-igd.ts";
import { silentLogger } from "../log.ts";
import { findPinholer } from "./pinhole-opener.ts";

const lan = { address: "::1", gateway: "::1", iface: "lo" };
const open: { stop(): void }[] = [];
afterEach(() => open.splice(0).forEach((x) => x.stop()));

/** A PCP server on ::1 that answers ANNOUNCE (or, `silent`, nothing); counts what it got. */
async function pcpServer(silent = false): Promise<{ port: number; got: () => number }> {
  let got = 0;
  const s: Socket = createSocket("udp6");
  s.on("message", (msg, r) => {
    got++;
    if (!silent) s.send(Uint8Array.from([2, msg[1]! | 0x80, 0, 0, ...new Array(20).fill(0)]), r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, "::1", r));
  open.push({ stop: () => s.close() });
  return { port: s.address().port, got: () => got };
}

function igd(o: Parameters<typeof fakeIgd>[0] = {}) {
  const g = fakeIgd(o);
  open.push(g);
  return { search: async () => g.location };
}

test("the IGD's firewall when it allows inbound pinholes, and PCP is not asked", async () => {
  const pcp = await pcpServer();
  const r = await findPinholer(lan, silentLogger, { ...igd(), pcpPort: pcp.port });
  expect([r.opener?.via, r.opener?.address, r.tried]).toEqual(["upnp", "::1", []]);
  expect(pcp.got()).toBe(0);
});

test("PCP at the default router when the IGD has no firewall service, or allows no pinholes, or none answers", async () => {
  const pcp = await pcpServer();
  for (const [search, why] of [
    [igd({ firewall: false }).search, "offers no WANIPv6FirewallControl service"],
    [igd({ inboundAllowed: false }).search, "its IPv6 firewall allows no inbound pinholes"],
    [async () => undefined, "UPnP IGD: no gateway answered the SSDP search over IPv6"],
  ] as const) {
    const r = await findPinholer(lan, silentLogger, { search, pcpPort: pcp.port });
    expect(r.opener?.via).toBe("pcp");
    expect(r.opener?.gateway).toBe(`[::1]:${pcp.port}`);
    expect(r.tried.join()).toContain(why);
  }
});

test("nothing when the IGD's firewall is off (nothing to open), or when neither answers, with what was tried", async () => {
  const pcp = await pcpServer(true);
  const off = await findPinholer(lan, silentLogger, { ...igd({ enabled: false }), pcpPort: pcp.port });
  expect(off.opener).toBeUndefined();
  expect(off.tried).toEqual([expect.stringContaining("its IPv6 firewall is off, nothing to open")]);
  expect(pcp.got()).toBe(0);
  const none = await findPinholer(lan, silentLogger, { search: async () => undefined, pcpPort: pcp.port });
  expect(none.opener).toBeUndefined();
  expect(none.tried).toEqual(["UPnP IGD: no gateway answered the SSDP search over IPv6", `PCP at [::1]:${pcp.port}: no PCP answer from [::1]:${pcp.port} after 4 tries`]);
  expect(pcp.got()).toBe(4);
}, 10_000);
