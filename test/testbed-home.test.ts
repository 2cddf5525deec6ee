/**
 * Home networks for real (root): a thesis network where IEP2 sits behind a UPnP home router, UD behind
 * carrier-grade NAT and an extra host H4 behind a router with ports forwarded by hand; IEP1 keeps its
 * public address. Checks what a node will rely on: mapping with upnpc, what gets in and what does not,
 * the address outbound traffic comes from, the RTTs, and a clean teardown.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { PUBLIC_V4 } from "../src/testbed/addressing.ts";
import { thesisTopology } from "../src/testbed/builtin.ts";
import { down, up } from "../src/testbed/lifecycle.ts";
import { statePath } from "../src/testbed/names.ts";
import { pingMatrix } from "../src/testbed/ping.ts";
import { listTestbeds, readState, type TestbedStatus } from "../src/testbed/state.ts";
import { parseTopology } from "../src/testbed/topology.ts";
import { isMiniupnpd } from "../src/testbed/upnp.ts";
import { describeWith, rttShowsDelay } from "./support/needs.ts";
import { cli, sh } from "./support/run.ts";
import { listen, send, suiteTestbed } from "./support/testbed-io.ts";

const NAME = "tbhome";
const thesis = thesisTopology();
const topology = parseTopology({
  hosts: [{ name: "UD", nat: "cgnat" }, "IEP1", { name: "IEP2", nat: "upnp" }, { name: "H4", nat: "static", forward: [4100, "20000-20009"] }],
  routers: thesis.routers.map((r) => r.name),
  links: [...thesis.links, { a: "r4", b: "H4", delayMs: 2 }],
}, "home.json");
const guardRoutes = () => sh(["ip", "route", "show", "type", "unreachable"]).stdout.toString();

describeWith(["root", "miniupnpd"], "testbed: home networks", () => {
  let st: TestbedStatus;
  const host = (n: string) => st.hosts.find((h) => h.name === n)!;
  suiteTestbed(NAME, topology, (s) => (st = s));

  test("status names each home: LAN and public addresses, kind, forwarded ports, the IGD; IEP1 is public", () => {
    expect(st.hosts.map((h) => [h.name, h.nat?.kind])).toEqual([["UD", "cgnat"], ["IEP1", undefined], ["IEP2", "upnp"], ["H4", "static"]]);
    const iep2 = host("IEP2").nat!;
    expect(iep2).toMatchObject({ gateway: "IEP2_gw", lanAddress: host("IEP2").address, lanPrefix: "192.168.3.0/24", gatewayAddress: "192.168.3.1" });
    expect(iep2.wanAddress).toBe(iep2.publicAddress);
    expect(iep2.upnp).toEqual({ igd: "http://192.168.3.1:5000/rootDesc.xml", natpmp: "192.168.3.1:5351", miniupnpd: "running" });
    const ud = host("UD").nat!;
    expect(ud.carrier).toBe("UD_cgn");
    expect(ud.wanAddress).toMatch(/^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./); // 100.64/10
    expect(ud.publicAddress).not.toBe(ud.wanAddress);
    expect(host("H4").nat!.forwarded).toEqual(["4100", "20000-20009"]);
    expect(host("IEP1").nat).toBeUndefined();
    expect(st.routers.filter((r) => r.role).map((r) => [r.name, r.role, r.host])).toEqual([
      ["UD_gw", "gateway", "UD"], ["UD_cgn", "carrier", "UD"], ["IEP2_gw", "gateway", "IEP2"], ["H4_gw", "gateway", "H4"],
    ]);
    expect(st.guards).toEqual([PUBLIC_V4]);
    expect(guardRoutes()).toContain(`unreachable ${PUBLIC_V4}`);
  });

  test("upnp: nothing gets in until upnpc maps a port; then a datagram to the public address reaches the host", async () => {
    const nat = host("IEP2").nat!;
    const before = await listen(host("IEP2").netns, 4100, 1500);
    expect(send(host("IEP1").netns, nat.publicAddress, 4100, "early")).toBe(true);
    expect(await before.received).toBeUndefined();
    const map = sh(["ip", "netns", "exec", host("IEP2").netns, "upnpc", "-u", nat.upnp!.igd, "-e", "icon test", "-a", nat.lanAddress, "4100", "4100", "UDP"]);
    expect(map.stdout.toString()).toContain(`external ${nat.publicAddress}:4100 UDP is redirected to internal ${nat.lanAddress}:4100`);
    const after = await listen(host("IEP2").netns, 4100, 3000);
    expect(send(host("IEP1").netns, nat.publicAddress, 4100, "mapped")).toBe(true);
    expect(await after.received).toEqual({ text: "mapped", from: expect.stringMatching(new RegExp(`^${host("IEP1").address.replaceAll(".", "\\.")}:`)) });
  });

  test("cgnat: nothing inbound reaches the host; outbound works and comes from the carrier's public address", async () => {
    const nat = host("UD").nat!;
    const inbound = await listen(host("UD").netns, 4100, 1500);
    send(host("IEP1").netns, nat.publicAddress, 4100, "in");
    send(host("IEP1").netns, nat.wanAddress, 4100, "in");
    expect(await inbound.received).toBeUndefined();
    const outbound = await listen(host("IEP1").netns, 4200, 3000);
    expect(send(host("UD").netns, host("IEP1").address, 4200, "out")).toBe(true);
    expect((await outbound.received)?.from).toStartWith(`${nat.publicAddress}:`);
  });

  test("static: the forwarded UDP and TCP ports reach the host, others do not", async () => {
    const nat = host("H4").nat!;
    const udp = await listen(host("H4").netns, 4100, 3000);
    expect(send(host("IEP1").netns, nat.publicAddress, 4100, "udp")).toBe(true);
    expect((await udp.received)?.text).toBe("udp");
    const tcp = await listen(host("H4").netns, 20005, 3000, "tcp");
    expect(send(host("IEP1").netns, nat.publicAddress, 20005, "tcp", "tcp")).toBe(true);
    expect((await tcp.received)?.text).toBe("tcp");
    const closed = await listen(host("H4").netns, 4101, 1500);
    send(host("IEP1").netns, nat.publicAddress, 4101, "no");
    expect(await closed.received).toBeUndefined();
  });

  test("the topology's RTTs hold through the homes (the host link's delay is split, not added)", async () => {
    const results = await pingMatrix(st, topology, { count: 20, interval: 0.01, pairs: [["UD", "IEP1"], ["IEP1", "IEP2"], ["UD", "IEP2"]] });
    expect(results.map((r) => [r.from, r.to, r.targetMs])).toEqual([
      ["UD", "IEP1", 92],
      ["IEP2", "IEP1", 102], // pinged from the NAT side
      ["UD", "IEP2", 13], // to IEP2's public address, answered by its home router: 14 ms less its LAN's 0.5 ms each way
    ]);
    for (const r of results) expect({ pair: `${r.from}-${r.to}`, ok: rttShowsDelay(r.medianMs!, r.targetMs) }).toEqual({ pair: `${r.from}-${r.to}`, ok: true });
  });

  test("a traceroute from behind CGNAT sees the home router, the carrier, then the Internet", () => {
    const out = sh(["ip", "netns", "exec", host("UD").netns, "traceroute", "-n", "-q", "1", "-w", "2", "-m", "4", host("IEP1").address]).stdout.toString();
    const hops = out.split("\n").slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)[1]);
    const link = (a: string, b: string) => st.links.find((l) => l.a === a && l.b === b)!;
    expect(hops).toEqual([host("UD").nat!.gatewayAddress, link("UD_gw", "UD_cgn").bAddress, link("UD_cgn", "r1").bAddress, st.routers.find((r) => r.name === "r2")!.addresses[0]]);
  });

  test("a dead miniupnpd shows in status (exit 10) and up repairs it", async () => {
    const pid = readState(NAME)!.upnpPids!.IEP2_gw!;
    process.kill(pid, "SIGKILL");
    await Bun.sleep(100);
    const dead = cli("testbed", "status", "--name", NAME, "--json");
    expect(dead.exitCode).toBe(10);
    expect(JSON.parse(dead.stdout.toString()).hosts[2].nat.upnp.miniupnpd).toBe("dead");
    st = await up({ name: NAME, topology, docker: false });
    expect(host("IEP2").nat!.upnp!.miniupnpd).toBe("running");
    expect(readState(NAME)!.upnpPids!.IEP2_gw).not.toBe(pid);
  }, 30_000);

  test("down leaves nothing: namespaces, miniupnpd, its files, the guard route, the state", async () => {
    const s = readState(NAME)!;
    const gw = s.plan.nodes.find((n) => n.name === "IEP2_gw")!;
    const pid = s.upnpPids!.IEP2_gw!;
    expect(isMiniupnpd(pid, gw)).toBe(true);
    // Another testbed on the machine that uses the same public prefix keeps its guard route (down is right
    // to leave it); only when none does must this down remove it.
    const shared = listTestbeds().some((t) => t !== NAME && readState(t)?.guards?.includes(PUBLIC_V4));
    const r = await down(NAME);
    expect(r.removed.miniupnpd).toEqual(["IEP2_gw"]);
    expect(r.removed.guards).toEqual(shared ? [] : [PUBLIC_V4]);
    expect(isMiniupnpd(pid, gw)).toBe(false);
    expect(existsSync(gw.nat!.upnp!.dir)).toBe(false);
    expect(sh(["ip", "netns", "list"]).stdout.toString()).not.toContain(`${NAME}-`);
    if (!shared) expect(guardRoutes()).not.toContain(PUBLIC_V4);
    expect(existsSync(statePath(NAME))).toBe(false);
  });
});
