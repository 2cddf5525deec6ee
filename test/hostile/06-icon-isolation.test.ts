/**
 * Finding 6 of issue 12, "ICONs reach the home". Code inside an ICON (a real container the node runs,
 * started with `icon run` like any ICON) connects to what surrounds the node: the host itself (the
 * gateway the ICON sees, the host's addresses), another ICON, the operator's own containers, and, in a
 * home made of namespaces, the home router, a LAN device, the cloud metadata address 169.254.169.254
 * and a public server. An ICON may reach the public side (iconEgress internet) and its node's socket,
 * nothing else; with iconEgress none, not even the public side. Root, Docker and the binary (the
 * runtime image is built from it).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { answer, nameParam } from "../../src/api/client.ts";
import { createDockerEngine } from "../../src/engine/docker-engine.ts";
import { reachFromIcon } from "../../src/bench/hostile/icon-reach.ts";
import { buildProbeImage, removeProbe, runProbe, type ProbeTarget } from "../../src/bench/hostile/probe-icon.ts";
import { runtimeTag } from "../../src/yard/runtime-image.ts";
import { describeWith } from "../support/needs.ts";
import { cli, docker } from "../support/run.ts";
import { attackedNodes, USER_ENGINE_SOCKET, type AttackedNode } from "./support/engine-node.ts";
import { HOME, homeNetwork } from "./support/home-net.ts";

const PROBE = "icontest-hostile-probe:6";
const PORT = 47_606;
const USER_APP = `icontest-userapp-${process.pid}`;

/** What the yard says about an ICON's network (`icon ps --json`), when it says anything. */
async function networkOf(node: AttackedNode, name: string): Promise<{ egress?: string; address?: string } | undefined> {
  return ((await answer(node.api.v1.icons[":name"].$get({ param: nameParam(name) }))) as { network?: { egress?: string; address?: string } }).network;
}

describeWith(["root", "docker", "binary"], "hostile 06: an ICON reaches only the public side and its node", () => {
  const nodes = attackedNodes();
  let userApp = "";
  let hostListener: { stop(closeActive?: boolean): void } | undefined;

  beforeAll(async () => {
    const built = cli("runtime", "build", "--json");
    if (built.exitCode !== 0) throw new Error(`runtime build: ${built.stderr}`);
    await buildProbeImage(await createDockerEngine(USER_ENGINE_SOCKET), { tag: PROBE });
    // The operator's own container, on the operator's engine and its default bridge.
    const code = `Bun.listen({ hostname: "0.0.0.0", port: ${PORT}, socket: { open(s) { s.end(); }, data() {} } }); setInterval(() => {}, 1e9);`;
    docker(["run", "-d", "--rm", "--name", USER_APP, `icon-runtime:${runtimeTag()}`, "-e", code]);
    userApp = docker(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", USER_APP]).toString().trim();
    hostListener = Bun.listen({ hostname: "0.0.0.0", port: PORT, socket: { open: (s) => void s.end(), data() {} } });
  }, 180_000);

  afterAll(async () => {
    hostListener?.stop(true);
    await nodes.close();
    Bun.spawnSync(["docker", "rm", "-f", USER_APP]);
    Bun.spawnSync(["docker", "rmi", PROBE]);
  }, 120_000);

  test("on this machine: not the host, not another ICON, not the operator's containers", async () => {
    const node = await nodes.start("here");
    const victim = await runProbe(node.api, { name: "victim", image: PROBE });
    const victimPort = (await answer(node.api.v1.icons[":name"].$get({ param: nameParam("victim") }))).port;
    const hostAddress = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)!.address;
    const forbidden: ProbeTarget[] = [
      { name: "gateway (the host as the ICON sees it)", host: "gateway", port: PORT },
      { name: `the host's address ${hostAddress}`, host: hostAddress, port: PORT },
      { name: "another ICON", host: victim.address!, port: victimPort },
      { name: "the operator's container", host: userApp, port: PORT },
    ];
    const attack = await reachFromIcon(node.api, { image: PROBE, name: "attacker", forbidden });
    expect(attack.reachedForbidden).toEqual([]);
    expect(attack.outcome).toBe("contained");
    // Every refusal is counted, by the rule that made it.
    const dropped = ((await node.status()) as { engine?: { dropped?: Record<string, number> } }).engine?.dropped ?? {};
    for (const reason of ["toHost", "iconToIcon", "privateRange"]) expect({ reason, counted: (dropped[reason] ?? 0) > 0 }).toEqual({ reason, counted: true });
    for (const name of ["victim", "attacker"]) await removeProbe(node.api, name);
  }, 180_000);

  test("in a home: not the LAN, the router, 169.254.169.254 or the host; the public side only with egress internet", async () => {
    const home = await homeNetwork("hst6", PORT);
    try {
      const open = await nodes.start("home-open", { netns: home.H, listen: HOME.host });
      const closed = await nodes.start("home-closed", { netns: home.H, listen: HOME.host, env: { ICON_ICON_EGRESS: "none" } });
      const victim = await runProbe(open.api, { name: "victim", image: PROBE });
      const neighbour = await runProbe(closed.api, { name: "neighbour", image: PROBE });
      // Before any probe leaves the ICON: it must sit on its node's own network inside the home (else
      // its packets would not even pass through H, and the probes below would go elsewhere).
      expect(await networkOf(open, "victim")).toMatchObject({ egress: "internet", address: victim.address });
      expect(await networkOf(closed, "neighbour")).toMatchObject({ egress: "none", address: neighbour.address });
      const port = async (n: AttackedNode, name: string) => (await answer(n.api.v1.icons[":name"].$get({ param: nameParam(name) }))).port;
      const forbidden: ProbeTarget[] = [
        { name: "the home router", host: HOME.router, port: PORT },
        { name: "a LAN device", host: HOME.lanDevice, port: PORT },
        { name: "the metadata address", host: HOME.metadata, port: PORT },
        { name: "the host's address", host: HOME.host, port: PORT },
        { name: "gateway", host: "gateway", port: PORT },
        { name: "an ICON of the same node", host: victim.address!, port: await port(open, "victim") },
        { name: "an ICON of another node", host: neighbour.address!, port: await port(closed, "neighbour") },
      ];
      const publicSide: ProbeTarget = { name: "public", host: HOME.publicServer, port: PORT };
      const attack = await reachFromIcon(open.api, { image: PROBE, name: "attacker", forbidden, allowed: [publicSide] });
      expect(attack.reachedForbidden).toEqual([]);
      expect(attack.reachedAllowed).toEqual(["public"]);
      const shut = await reachFromIcon(closed.api, { image: PROBE, name: "attacker", forbidden: [publicSide, ...forbidden.slice(0, 4)] });
      expect(shut.reachedForbidden).toEqual([]);
      // Inbound still works with egress none: a client in the home reaches the ICON at its published port.
      const reply = Bun.spawnSync(["nsenter", `--net=/run/netns/${home.W}`, "curl", "-s", "-m", "5", `http://${HOME.host}:${await port(closed, "neighbour")}/`]);
      expect(reply.stdout.toString()).toBe("probe\n");
    } finally {
      await home.close();
    }
  }, 300_000);
});
