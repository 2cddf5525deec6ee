/**
 * The hostile bench's rare hang (a client that heard nothing from the origin ICON for 30 s while
 * attack replicas came and went on the origin): a Linux bridge whose MAC address nobody set takes the
 * lowest address among its ports. An ICON learns its gateway's address while a newcomer with a lower
 * one is attached; when the newcomer leaves, the bridge's address changes back and the ICON keeps
 * sending to the address that left, into nothing, until its ARP entry expires (up to about 45 s).
 * The node's bridge (made by the node's own code, in namespaces of this test) must keep its address.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { describeWith } from "../support/needs.ts";

const NODE = `icontest-churn-${process.pid}`;
const ICON = `${NODE}-icon`;
const BRIDGE = "br-churn";
const GATEWAY = "10.77.0.1";

function sh(argv: string[]): { ok: boolean; out: string } {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { ok: p.exitCode === 0, out: `${p.stdout}${p.stderr}`.trim() };
}
function must(argv: string[]): string {
  const r = sh(argv);
  if (!r.ok) throw new Error(`${argv.join(" ")}: ${r.out}`);
  return r.out;
}
/** One ICON-side ping of its gateway, one second to answer. */
const reachesGateway = () => sh(["ip", "netns", "exec", ICON, "ping", "-c", "1", "-W", "1", GATEWAY]).ok;

describeWith(["root"], "hostile 15: ICONs that come and go leave the others' gateway where it was", () => {
  beforeAll(() => {
    must(["ip", "netns", "add", NODE]);
    must(["ip", "netns", "add", ICON]);
    must(["ip", "netns", "exec", NODE, process.execPath, join(import.meta.dir, "support/make-bridge.ts"), BRIDGE, "10.77.0.0/24"]);
    // The ICON that stays (the origin's root ICON), on a port with an ordinary address.
    must(["ip", "-n", NODE, "link", "add", "a-host", "type", "veth", "peer", "name", "a-icon", "netns", ICON]);
    must(["ip", "-n", NODE, "link", "set", "a-host", "address", "0e:00:00:00:00:10", "master", BRIDGE, "up"]);
    must(["ip", "-n", ICON, "addr", "add", "10.77.0.2/24", "dev", "a-icon"]);
    must(["ip", "-n", ICON, "link", "set", "a-icon", "up"]);
  });

  afterAll(() => {
    sh(["ip", "netns", "del", ICON]);
    sh(["ip", "netns", "del", NODE]);
  });

  test("an ICON reaches its gateway after a newcomer with the lowest port address left", () => {
    // A newcomer (an attacker's replica) whose port has the lowest address there is.
    must(["ip", "-n", NODE, "link", "add", "b-host", "type", "veth", "peer", "name", "b-icon"]);
    must(["ip", "-n", NODE, "link", "set", "b-host", "address", "02:00:00:00:00:01", "master", BRIDGE, "up"]);
    // The staying ICON learns its gateway's address now (its ARP entry expired meanwhile).
    must(["ip", "-n", ICON, "neigh", "flush", "dev", "a-icon"]);
    expect(reachesGateway()).toBe(true);
    must(["ip", "-n", NODE, "link", "del", "b-host"]);
    expect(reachesGateway()).toBe(true);
  });
});
