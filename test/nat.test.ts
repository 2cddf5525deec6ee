/**
 * Home networks end to end (issue 14): the thesis network with the edge (IEP2) behind a home router.
 * - upnp: the edge maps its ports with UPnP, peers dial it back (mapped), cold, direct and hot
 *   migrations reach the replica through the mapping, and a stopped node leaves no mapping behind;
 * - cgnat: the edge knows it cannot be reached and announces nothing: the origin never chooses it, the
 *   client stays with the origin and is served;
 * - static: portMapping static, the testbed's hand-made forward: mapped, and the client migrates.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { answer } from "../src/api/client.ts";
import { MigrationLab } from "../src/lab/lab.ts";
import type { ClientResult } from "../src/lab/client.ts";
import { thesisTopology, withVariant, type NatKind, type TestbedStatus } from "../src/testbed/index.ts";
import { describeWith } from "./support/needs.ts";

const natLab = (name: string, kind: NatKind, more: Partial<Parameters<typeof MigrationLab.open>[0]> = {}) =>
  MigrationLab.open({ name, topology: withVariant(thesisTopology(), { nat: [["IEP2", kind]] }), ...more });

const nat = (st: TestbedStatus) => st.hosts.find((h) => h.name === "IEP2")!.nat!;

async function edgeStatus(lab: MigrationLab) {
  return answer(lab.nodes.get("IEP2").api.v1.status.$get());
}

/** The rules miniupnpd holds on the home router (its nat MINIUPNPD chain, legacy iptables). */
function routerRules(lab: MigrationLab): string[] {
  const gw = lab.st.routers.find((r) => r.name === nat(lab.st).gateway)!;
  const p = Bun.spawnSync(["ip", "netns", "exec", gw.netns, "iptables-legacy", "-t", "nat", "-S", "MINIUPNPD"], { stdout: "pipe" });
  return p.stdout.toString().split("\n").filter((l) => l.startsWith("-A"));
}

function expectOnEdge(lab: MigrationLab, r: ClientResult, mode: string) {
  expect(r.error).toBeUndefined();
  expect(r.ok).toBe(true);
  expect(r.stateIntact).toBe(true);
  expect(r.mode).toBe(mode);
  // through the home router: the edge's public address, never its LAN one
  expect(new URL(r.edge!).hostname).toBe(nat(lab.st).publicAddress);
}

describeWith(["root", "docker", "binary", "miniupnpd"], "an edge behind a UPnP home router", () => {
  let lab: MigrationLab;
  beforeAll(async () => {
    lab = await natLab("t-nat-upnp", "upnp");
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  test("the edge maps its ports, peers reach it there (mapped), and it announces its public address", async () => {
    const s = await edgeStatus(lab);
    const pub = nat(lab.st).publicAddress;
    expect(s.reachability.ipv4).toBe("mapped");
    expect(s.reachability.external).toEqual([{ address: pub, dhtPort: 4100, peerPort: 4101 }]);
    expect(s.reachability.mappings.map((m) => `${m.purpose} ${m.protocol} ${m.internalPort}->${m.externalPort} ${m.via}`).sort()).toEqual(["dht udp 4100->4100 upnp", "peer tcp 4101->4101 upnp"]);
    expect(s.address).toBe(pub);
    // The origin is verified by the edge in turn (after its own search for a gateway has given up).
    await lab.nodes.waitReachability("IEP1", "public", 30_000);
    // The benchmark's floor F needs the client-edge RTT, pinged from the NAT side (thesis: 14 ms).
    const rtt = await lab.rtts(5);
    expect(rtt.clientEdge).toBeGreaterThan(12);
    expect(rtt.clientEdge).toBeLessThan(20);
  }, 40_000);

  test("cold, direct and hot: the client reaches the replica through the mapping; a stopped node removes its mappings", async () => {
    expectOnEdge(lab, await lab.client(), "cold");
    const port = new URL((await lab.client()).edge!).port;
    const s = await edgeStatus(lab);
    expect(s.reachability.mappings.some((m) => m.purpose === "icon" && String(m.externalPort) === port)).toBe(true);
    expect(routerRules(lab).some((r) => r.includes(`--dport ${port}`))).toBe(true);

    await lab.nodes.stop("IEP2");
    expect(routerRules(lab)).toEqual([]);
    await lab.startNode("IEP2");
    await lab.nodes.waitReachability("IEP2", "mapped", 60_000);
    expectOnEdge(lab, await lab.client(), "hot");
    expectOnEdge(lab, await lab.client(), "direct");
    await lab.resetEdgeCold();
    await lab.nodes.waitReachability("IEP2", "mapped", 60_000);
    expectOnEdge(lab, await lab.client(), "cold");
  }, 240_000);
});

describeWith(["root", "docker", "binary"], "an edge behind carrier-grade NAT", () => {
  let lab: MigrationLab;
  beforeAll(async () => {
    lab = await natLab("t-nat-cgnat", "cgnat", { edgeUnreachable: true });
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  test("the edge knows it cannot be reached and says why; the origin never chooses it; the client stays and is served", async () => {
    const s = await edgeStatus(lab);
    expect(s.reachability.ipv4).toBe("unreachable");
    expect(s.reachability.announced).toBe(false);
    expect(s.reachability.reason).toContain("could not open the DHT (UDP) and peer (TCP) port");
    expect(s.reachability.mappings).toEqual([]);
    // it still uses the DHT
    expect(s.dht.peers).toBeGreaterThan(0);

    const edgeId = s.nodeId;
    const origin = lab.nodes.get("IEP1").api;
    const closest = await answer(origin.v1.closest.$get({ query: { client: "10.1.1.10", fresh: "1" } }));
    expect(closest.candidates.map((c) => c.nodeId)).not.toContain(edgeId);

    const r = await lab.client({ timeoutMs: 8_000 });
    expect(r.phasesMs.handshakeReplyOrigin).toBeGreaterThan(0); // served by the origin
    expect(r.edge).toBeUndefined();
    expect(await answer(lab.nodes.get("IEP2").api.v1.icons.$get({ query: { all: "1" } }))).toEqual([]);
  }, 120_000);
});

describeWith(["root", "docker", "binary"], "an edge with a hand-made forward (portMapping static)", () => {
  let lab: MigrationLab;
  beforeAll(async () => {
    // The operator who forwards the ports by hand names the public address too. The node then sees a NAT at
    // once (the advertised address is not its own), so it is a DHT client from its first requests: no peer keeps it in its routing table, stores
    // on it or connects to it, and it must look up whom to ask to dial it back (the lab's warm-up waits for
    // the edge's announcements, which wait for that verdict).
    const nodeEnv = (host: string, st: TestbedStatus) => ({ ICON_PORT_MAPPING: "static", ...(host === "IEP2" ? { ICON_ADVERTISE: nat(st).publicAddress } : {}) });
    lab = await natLab("t-nat-static", "static", { nodeEnv });
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  test("mapped through the forward, nothing asked of the router; the client migrates to the replica", async () => {
    const s = await edgeStatus(lab);
    expect(s.reachability.ipv4).toBe("mapped");
    expect(s.reachability.portMapping.state).toBe("none");
    expect(s.reachability.mappings.map((m) => m.via)).toEqual(["static", "static"]);
    expectOnEdge(lab, await lab.client(), "cold");
    expectOnEdge(lab, await lab.client(), "direct");
  }, 120_000);
});
