/**
 * IPv6 pinholes end to end: the thesis network dual stack, the edge (IEP2) behind a UPnP home router whose
 * IPv6 firewall drops unsolicited inbound traffic (`"firewall6": true`, as `icon testbed up --nat upnp@IEP2
 * --ipv6 --firewall6` makes it), the client IPv6 only.
 * - portMapping auto: the edge opens pinholes for its DHT (UDP) and peer (TCP) ports through the IGD's
 *   WANIPv6FirewallControl, peers reach it over IPv6 (public), the client is migrated to its IPv6 address
 *   through an ICON port's pinhole, which closes when the ICON stops; a stopped node leaves none;
 * - portMapping off: no pinhole, and the firewall keeps the edge unreachable over IPv6.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { answer } from "../src/api/client.ts";
import { MigrationLab } from "../src/lab/lab.ts";
import { address6, thesisTopology, withVariant, type NetworkSpec, type TestbedStatus } from "../src/testbed/index.ts";
import { describeWith } from "./support/needs.ts";

/** The thesis network with IEP2 behind a UPnP home router whose IPv6 firewall is on. */
function firewalledEdge(): NetworkSpec {
  const t = withVariant(thesisTopology(), { nat: [["IEP2", "upnp"]] });
  for (const h of t.hosts) if (h.name === "IEP2") Object.assign(h, { firewall6: true });
  return t;
}

const gatewayNetns = (st: TestbedStatus) => st.routers.find((r) => r.name === st.hosts.find((h) => h.name === "IEP2")!.nat!.gateway)!.netns;

/** ip6tables-legacy -S of a chain in the home router (miniupnpd keeps its pinholes in the filter table's MINIUPNPD). */
function routerChain6(lab: MigrationLab, chain: string): string[] {
  const p = Bun.spawnSync(["ip", "netns", "exec", gatewayNetns(lab.st), "ip6tables-legacy", "-S", chain], { stdout: "pipe" });
  return p.stdout.toString().split("\n").filter((l) => l.startsWith("-A"));
}

/** The pinhole rules for the edge's address, as "udp 4100". */
function pinholeRules(lab: MigrationLab): string[] {
  const edge = address6(lab.st, "IEP2");
  return routerChain6(lab, "MINIUPNPD")
    .filter((r) => r.includes(`-d ${edge}/128`) && r.includes("-j ACCEPT"))
    .map((r) => `${/-p (\w+)/.exec(r)![1]} ${/--dport (\d+)/.exec(r)![1]}`)
    .sort();
}

const edgeStatus = (lab: MigrationLab) => answer(lab.nodes.get("IEP2").api.v1.status.$get());

async function waitIPv6(lab: MigrationLab, want: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = (await edgeStatus(lab)).reachability;
    if (last.ipv6 === want) return last;
    await Bun.sleep(500);
  }
  throw new Error(`IEP2's IPv6 reachability did not become ${want} in ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await Bun.sleep(200);
  }
}

describeWith(["root", "docker", "binary", "miniupnpd"], "an edge behind a home router's IPv6 firewall, with UPnP", () => {
  let lab: MigrationLab;
  beforeAll(async () => {
    lab = await MigrationLab.open({ name: "t-nat6-upnp", ipv6: true, topology: firewalledEdge() });
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  test("the router's firewall holds a pinhole for the edge's DHT (UDP) and peer (TCP) ports, and peers reach it over IPv6", async () => {
    // The firewall is on: inbound IPv6 to the home passes miniupnpd's chain, then is dropped.
    expect(routerChain6(lab, "FORWARD").some((r) => r.includes("-j MINIUPNPD"))).toBe(true);
    const s = await edgeStatus(lab);
    expect(s.reachability.firewall6).toMatchObject({ state: "open", via: "upnp", address: address6(lab.st, "IEP2") });
    expect(s.reachability.pinholes.map((p) => `${p.purpose} ${p.protocol} ${p.port} ${p.via}`).sort()).toEqual(["dht udp 4100 upnp", "peer tcp 4101 upnp"]);
    expect(s.reachability.pinholes.every((p) => p.expiresInSec! > 1700)).toBe(true);
    expect(pinholeRules(lab)).toEqual(["tcp 4101", "udp 4100"]);
    const r = await waitIPv6(lab, "public", 60_000);
    expect(r.external.map((e) => e.address)).toContain(address6(lab.st, "IEP2"));
  }, 90_000);

  test("an ICON's port has a pinhole while the ICON runs: the IPv6 client reaches the replica through it; it closes when the ICON stops, and a stopped node leaves none", async () => {
    const r = await lab.client();
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ ok: true, stateIntact: true, mode: "cold" });
    const edgeUrl = new URL(r.edge!);
    expect(edgeUrl.hostname).toBe(`[${address6(lab.st, "IEP2")}]`);
    const port = Number(edgeUrl.port);
    const s = await edgeStatus(lab);
    expect(s.reachability.pinholes.some((p) => p.purpose === "icon" && p.protocol === "tcp" && p.port === port)).toBe(true);
    expect(pinholeRules(lab)).toContain(`tcp ${port}`);

    const edge = lab.nodes.get("IEP2").api;
    const replica = (await answer(edge.v1.icons.$get({ query: { all: "1" } }))).find((i) => i.role === "replica")!;
    await answer(edge.v1.icons[":name"].stop.$post({ param: { name: replica.name } }));
    await waitFor(`the pinhole of tcp ${port} closing`, () => !pinholeRules(lab).includes(`tcp ${port}`));
    expect((await edgeStatus(lab)).reachability.pinholes.map((p) => p.purpose).sort()).toEqual(["dht", "peer"]);

    await lab.nodes.stop("IEP2");
    expect(pinholeRules(lab)).toEqual([]);
  }, 240_000);
});

describeWith(["root", "docker", "binary", "miniupnpd"], "an edge behind a home router's IPv6 firewall, portMapping off", () => {
  let lab: MigrationLab;
  beforeAll(async () => {
    lab = await MigrationLab.open({ name: "t-nat6-off", ipv6: true, topology: firewalledEdge(), edgeUnreachable: true, nodeEnv: { ICON_PORT_MAPPING: "off" } });
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  test("the edge opens nothing, says why, and the firewall keeps it unreachable over IPv6", async () => {
    const s = await edgeStatus(lab);
    expect(s.reachability.pinholes).toEqual([]);
    expect(s.reachability.firewall6).toEqual({ state: "none", tried: ["portMapping is off"] });
    expect(pinholeRules(lab)).toEqual([]);
    const r = await waitIPv6(lab, "unreachable", 60_000);
    expect(r.reason6).toContain("could not open the DHT (UDP) and peer (TCP) port");
  }, 90_000);
});
