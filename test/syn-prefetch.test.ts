/**
 * The SYN watcher end to end (root, Docker): the origin node on IEP1 runs the sample ICON with its own
 * engine (its firewall DNATs the ICON's port, so conntrack tracks the connection). Until the ICON has asked
 * for closer nodes once, a SYN to its port starts nothing; after one client's migration (the ICON asked),
 * a TCP connection from UD that never sends a byte (no HTTP request, no websocket upgrade) makes the node
 * trace UD and look up the routers of its path: right after, `closest(UD)` answers from the caches. The
 * replica on the edge never asks: SYNs to it start nothing. Nor does a connection to a port no ICON has.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { answer } from "../src/api/client.ts";
import { APP_PORT, MigrationLab } from "../src/lab/lab.ts";
import { address, inHost } from "../src/testbed/index.ts";
import { describeWith } from "./support/needs.ts";

/** Opens a TCP connection from `host` to addr:port, sends nothing, holds it `ms`, closes it. */
function silentConnect(lab: MigrationLab, host: string, addr: string, port: number, ms = 500): void {
  Bun.spawnSync(inHost(lab.st, host, ["bash", "-c", `exec 3<>/dev/tcp/${addr}/${port}; sleep ${ms / 1000}`]), { stdout: "ignore", stderr: "ignore" });
}

describeWith(["root", "docker", "binary"], "SYN watcher", () => {
  let lab: MigrationLab;
  /** The replica's websocket URL, from the migration. */
  let edge: URL | undefined;
  beforeAll(async () => {
    lab = await MigrationLab.open({ name: "t-synwatch" });
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  }, 120_000);

  const api = (host: string) => lab.nodes.get(host).api;
  const synWatch = async (host = lab.roles.origin) => {
    const t = (await answer(api(host).v1.status.$get())).topology;
    if (!("synWatch" in t) || !t.synWatch) throw new Error(`${host} watches no SYNs: ${JSON.stringify(t)}`);
    return t.synWatch;
  };

  test("a SYN to the port of an ICON that has never asked for closer nodes starts nothing", async () => {
    const before = await synWatch();
    silentConnect(lab, lab.roles.client, address(lab.st, lab.roles.origin), APP_PORT);
    expect(await synWatch()).toEqual(before);
  }, 60_000);

  test("once the ICON has asked, a SYN to its port, with no request after it, traces the client and looks up its routers", async () => {
    const migrated = await lab.client();
    expect(migrated).toMatchObject({ ok: true });
    edge = new URL(migrated.edge!);
    await answer(api(lab.roles.origin).v1.topology.flush.$post());
    const before = await synWatch();
    silentConnect(lab, lab.roles.client, address(lab.st, lab.roles.origin), APP_PORT);
    const after = await synWatch();
    expect(after.syns).toBe(before.syns + 1);
    expect(after.prefetched).toBe(before.prefetched + 1);
    // The prefetch has had the 500 ms the connection was held: the trace (92 ms) and lookups are done.
    const a = await answer(api(lab.roles.origin).v1.closest.$get({ query: { client: lab.clientAddress } }));
    expect(a.cached).toBe(true);
    expect(a.candidates[0]?.address).toBe(address(lab.st, lab.roles.edge));
  }, 120_000);

  test("the replica on the edge never asked: a SYN to it starts nothing", async () => {
    expect(edge?.hostname).toBe(address(lab.st, lab.roles.edge));
    const before = await synWatch(lab.roles.edge);
    silentConnect(lab, lab.roles.client, edge!.hostname, Number(edge!.port));
    expect(await synWatch(lab.roles.edge)).toEqual(before);
  }, 60_000);

  test("a SYN to a port no ICON has starts nothing", async () => {
    const before = await synWatch();
    silentConnect(lab, lab.roles.client, address(lab.st, lab.roles.origin), 4101); // the peer port
    expect(await synWatch()).toEqual(before);
  }, 60_000);
});
