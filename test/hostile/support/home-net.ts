/**
 * A home in two network namespaces, for attacks that need a network path: H is the IEP's computer
 * (192.168.77.2 on the home LAN, default route via the home router), W is everything around it behind
 * one veth: the home router 192.168.77.1, a LAN device 10.77.0.1, a cloud metadata address
 * 169.254.169.254 and a public server 198.51.100.2 (TEST-NET-2: public-looking, private to this
 * test). A listener in W answers on every one of them, and one in H on the computer's own address.
 * Nothing leaves the two namespaces.
 */
import { run } from "../../../src/util/command.ts";

export const HOME = {
  host: "192.168.77.2",
  router: "192.168.77.1",
  lanDevice: "10.77.0.1",
  metadata: "169.254.169.254",
  publicServer: "198.51.100.2",
};

async function must(cmd: string[]): Promise<void> {
  const r = await run(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr}`);
}

/** A TCP listener on 0.0.0.0:port inside `netns` that accepts and closes (killed by its PID at close). */
function listener(netns: string, port: number) {
  const code = `Bun.listen({ hostname: "0.0.0.0", port: ${port}, socket: { open(s) { s.end(); }, data() {} } }); setInterval(() => {}, 1e9);`;
  return Bun.spawn(["nsenter", `--net=/run/netns/${netns}`, process.execPath, "-e", code], { stdout: "ignore", stderr: "ignore" });
}

export async function homeNetwork(prefix: string, port: number) {
  const H = `${prefix}-H`, W = `${prefix}-W`;
  const down = async () => {
    for (const ns of [H, W]) await run(["ip", "netns", "delete", ns]);
  };
  await down();
  await must(["ip", "netns", "add", H]);
  await must(["ip", "netns", "add", W]);
  await must(["ip", "link", "add", `${prefix}h`, "netns", H, "type", "veth", "peer", "name", `${prefix}w`, "netns", W]);
  const inH = ["addr add 192.168.77.2/24 dev " + `${prefix}h`, `link set ${prefix}h up`, "link set lo up", `route add default via ${HOME.router}`];
  const inW = [`addr add ${HOME.router}/24 dev ${prefix}w`, `link set ${prefix}w up`, "link set lo up",
    ...[HOME.lanDevice, HOME.metadata, HOME.publicServer].map((a) => `addr add ${a}/32 dev lo`)];
  for (const l of inH) await must(["ip", "-n", H, ...l.split(" ")]);
  for (const l of inW) await must(["ip", "-n", W, ...l.split(" ")]);
  const procs = [listener(W, port), listener(H, port)];
  await Bun.sleep(300);
  return {
    H, W,
    async close(): Promise<void> {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      await down();
    },
  };
}
