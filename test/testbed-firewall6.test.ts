/**
 * Home routers' IPv6 firewall for real (root): the thesis network dual stack, IEP2 behind a UPnP home
 * router and UD behind a static forward, both with "firewall6"; H4 behind a UPnP router without it, and
 * IEP1 public. Checks what the node's pinholes rely on: unsolicited IPv6 is dropped until the host asks
 * miniupnpd for a pinhole (IGDv2 AddPinhole over IPv6 HTTP, or PCP MAP), a static home passes its forward
 * ports, replies and pings pass, and without the firewall everything reaches the host as before.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { argvOf } from "../src/engine/daemon/processes.ts";
import { thesisTopology } from "../src/testbed/builtin.ts";
import { readState, type TestbedStatus } from "../src/testbed/state.ts";
import { parseTopology } from "../src/testbed/topology.ts";
import { describeWith, ROOT_DIR } from "./support/needs.ts";
import { cli, sh } from "./support/run.ts";
import { listen, send, suiteTestbed } from "./support/testbed-io.ts";

const NAME = "tbfw6";
const thesis = thesisTopology();
const topology = parseTopology({
  hosts: [{ name: "UD", nat: "static", firewall6: true }, "IEP1", { name: "IEP2", nat: "upnp", firewall6: true }, { name: "H4", nat: "upnp" }],
  routers: thesis.routers.map((r) => r.name),
  links: [...thesis.links, { a: "r4", b: "H4", delayMs: 2 }],
  ipv6: true,
}, "firewall6.json");

describeWith(["root", "miniupnpd"], "testbed: home routers' IPv6 firewall", () => {
  let st: TestbedStatus;
  const host = (n: string) => st.hosts.find((h) => h.name === n)!;
  const gateway = (n: string) => st.routers.find((r) => r.name === host(n).nat!.gateway)!;
  const inHost = (n: string, argv: string[]) => sh(["ip", "netns", "exec", host(n).netns, ...argv]);
  /** Whether miniupnpd holds a pinhole for IEP2 at proto/port on its home router (legacy ip6tables, filter chain MINIUPNPD). */
  const pinhole = (proto: string, port: number) => {
    const rules = sh(["ip", "netns", "exec", gateway("IEP2").netns, "ip6tables-legacy", "-S", "MINIUPNPD"]).stdout.toString().split("\n");
    return rules.includes(`-A MINIUPNPD -d ${host("IEP2").address6}/128 -p ${proto} -m ${proto} --dport ${port} -j ACCEPT`);
  };
  /** Whether a TCP connection from IEP1 to `to`'s IPv6 address at `port` reaches it. */
  async function tcpFromIep1(to: string, port: number): Promise<boolean> {
    const l = await listen(host(to).netns, port, 3500, "tcp", 6);
    const connected = send(host("IEP1").netns, host(to).address6!, port, `tcp ${port}`, "tcp");
    const got = await l.received;
    expect(connected).toBe(got !== undefined);
    return got?.text === `tcp ${port}`;
  }
  suiteTestbed(NAME, topology, (s) => (st = s));

  test("status says firewall6 per home, and where IEP2's IGD and PCP answer over IPv6", () => {
    const json = cli("testbed", "status", "--name", NAME, "--json");
    expect(json.exitCode).toBe(0);
    const s = JSON.parse(json.stdout.toString()) as TestbedStatus;
    expect(s.hosts.map((h) => [h.name, h.nat?.firewall6])).toEqual([["UD", true], ["IEP1", undefined], ["IEP2", true], ["H4", false]]);
    const nat = s.hosts.find((h) => h.name === "IEP2")!.nat!;
    expect(nat.upnp).toMatchObject({ igd6: `http://[${nat.gatewayAddress6}]:5000/rootDesc.xml`, pcp6: `[${nat.gatewayAddress6}]:5351`, miniupnpd: "running" });
    expect(s.hosts.find((h) => h.name === "H4")!.nat!.upnp!.igd6).toBeUndefined();
  });

  test("the filter is in the home router's legacy ip6tables; miniupnpd serves IPv6 (no -4) only behind a firewall", () => {
    const rules = sh(["ip", "netns", "exec", gateway("IEP2").netns, "ip6tables-legacy", "-S", "FORWARD"]).stdout.toString().trim().split("\n");
    expect(rules).toContain("-A FORWARD -i r3 ! -o r3 -j MINIUPNPD");
    expect(rules.at(-1)).toBe("-A FORWARD -i r3 -j DROP");
    const argv = (gw: string) => argvOf(readState(NAME)!.upnpPids![gw]!) ?? [];
    expect(argv("IEP2_gw").some((a) => a.endsWith("miniupnpd"))).toBe(true);
    expect(argv("IEP2_gw")).not.toContain("-4");
    expect(argv("H4_gw")).toContain("-4");
  });

  test("upnp: TCP to the host's IPv6 address is dropped until it asks for a pinhole (AddPinhole over IPv6); then only that port reaches it", async () => {
    const addr = host("IEP2").address6!;
    expect(await tcpFromIep1("IEP2", 4101)).toBe(false);
    const r = inHost("IEP2", ["upnpc", "-6", "-u", host("IEP2").nat!.upnp!.igd6!, "-A", "", "0", addr, "4101", "TCP", "3600"]);
    expect(r.stdout.toString()).toMatch(new RegExp(`AddPinhole: \\(\\[\\]:0 -> \\[${addr}\\]:4101\\) / Pinhole ID = \\d+`));
    expect(pinhole("tcp", 4101)).toBe(true);
    expect(await tcpFromIep1("IEP2", 4101)).toBe(true);
    expect(await tcpFromIep1("IEP2", 4103)).toBe(false);
  }, 30_000);

  test("upnp: AddPinhole over the IPv4 URL is refused (606): miniupnpd compares InternalClient with the sender's IPv6 address", () => {
    const r = inHost("IEP2", ["upnpc", "-u", host("IEP2").nat!.upnp!.igd, "-A", "", "0", host("IEP2").address6!, "4104", "TCP", "3600"]);
    expect(r.stdout.toString()).toContain("failed with code 606");
    expect(pinhole("tcp", 4104)).toBe(false);
  });

  test("upnp: PCP MAP from the host's global address opens a UDP pinhole, asked of the router's global or link-local address", async () => {
    const addr = host("IEP2").address6!, nat = host("IEP2").nat!;
    const pcp = (server: string, proto: string, port: number) => {
      const r = inHost("IEP2", [process.execPath, join(ROOT_DIR, "test/support/pcp-map.ts"), addr, server, proto, String(port)]);
      return JSON.parse(r.stdout.toString());
    };
    const early = await listen(host("IEP2").netns, 4100, 1500, "udp", 6);
    send(host("IEP1").netns, addr, 4100, "early");
    expect(await early.received).toBeUndefined();
    expect(pcp(nat.gatewayAddress6!, "udp", 4100)).toMatchObject({ result: 0, nonceEchoed: true, port: 4100, lifetime: expect.any(Number) });
    expect(pinhole("udp", 4100)).toBe(true);
    const mapped = await listen(host("IEP2").netns, 4100, 3000, "udp", 6);
    expect(send(host("IEP1").netns, addr, 4100, "mapped")).toBe(true);
    expect(await mapped.received).toEqual({ text: "mapped", from: expect.stringMatching(new RegExp(`^${host("IEP1").address6}:`)) });
    // The router's link-local address on the LAN (its interface there is named after the host).
    const ll = sh(["ip", "-n", gateway("IEP2").netns, "-6", "-o", "addr", "show", "dev", "IEP2", "scope", "link"]).stdout.toString().match(/inet6 (fe80::[0-9a-f:]+)\//)![1];
    expect(pcp(`${ll}%eth0`, "tcp", 4102)).toMatchObject({ result: 0, nonceEchoed: true, port: 4102 });
    expect(await tcpFromIep1("IEP2", 4102)).toBe(true);
  }, 30_000);

  test("static: the forward ports reach the host over IPv6 (UDP and TCP), another port does not", async () => {
    const udp = await listen(host("UD").netns, 4100, 3000, "udp", 6);
    expect(send(host("IEP1").netns, host("UD").address6!, 4100, "udp")).toBe(true);
    expect((await udp.received)?.text).toBe("udp");
    expect(await tcpFromIep1("UD", 20005)).toBe(true);
    expect(await tcpFromIep1("UD", 4102)).toBe(false);
  }, 30_000);

  test("replies and pings pass: the host's own connection out gets its answers, ping -6 reaches it", async () => {
    const out = await listen(host("IEP1").netns, 4200, 3000, "tcp", 6);
    expect(send(host("IEP2").netns, host("IEP1").address6!, 4200, "out", "tcp")).toBe(true);
    expect((await out.received)?.from).toStartWith(`${host("IEP2").address6}:`);
    const ping = inHost("IEP1", ["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", host("IEP2").address6!]);
    expect(ping.stdout.toString()).toContain("2 received");
  });

  test("without firewall6 IPv6 reaches the host at any port, unasked (as before)", async () => {
    expect(await tcpFromIep1("H4", 4101)).toBe(true);
    const udp = await listen(host("H4").netns, 4107, 3000, "udp", 6);
    expect(send(host("IEP1").netns, host("H4").address6!, 4107, "open")).toBe(true);
    expect((await udp.received)?.text).toBe("open");
  });
});
