import type { MigrationLab } from "../../lab/lab.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table, type Output } from "../output.ts";
import { numberFlag } from "../flags.ts";

type Case = "cold" | "direct" | "hot";

/**
 * The origin node runs in IEP1's namespace, where 127.0.0.1 is not the host's: its dashboard socket is
 * relayed to this machine's 127.0.0.1 (dashboard/relay.ts) until SIGINT or SIGTERM.
 */
async function serveDashboardUntilSignal(lab: MigrationLab, port: number, out: Output): Promise<void> {
  const { relayToSocket } = await import("../../dashboard/relay.ts");
  const socketPath = lab.dashboardSocket(lab.roles.origin);
  const relay = await relayToSocket({ host: "127.0.0.1", port, socketPath }).catch(() => relayToSocket({ host: "127.0.0.1", port: 0, socketPath }));
  const url = `http://127.0.0.1:${relay.port}/`;
  out.progress({ type: "dashboard", host: lab.roles.origin, url }, `\nDashboard of the origin node (${lab.roles.origin}): ${url}\nPress Ctrl-C to stop the demo and take the testbed down.`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await relay.stop();
}

export const command = defineCommand({
  name: "demo",
  usage: "icon demo [--exit] [--dashboard-port N] [--keep] [--loss P] [--json]",
  description:
    "Brings up the thesis network (UD, IEP1 far away, IEP2 at the edge) with one Docker engine per IEP,\n" +
    "starts a node on IEP1 and IEP2, runs the sample ICON on IEP1 and a client on UD. The ICON finds\n" +
    "that IEP2 is closer to the client, replicates itself there and moves the client. Three clients show\n" +
    "the three cases of thesis 4.1: cold (the image is shipped), direct (the replica runs), hot (the edge\n" +
    "node restarted, its stopped replica is started). Each phase prints as it happens. Then it prints the\n" +
    "URL of the origin node's dashboard on this machine's 127.0.0.1 and keeps everything up until Ctrl-C\n" +
    "(--exit: tear down at once).",
  options: {
    ...JSON_OPTION,
    keep: { type: "boolean", doc: "Leave the testbed and nodes up afterwards (testbed name: demo)." },
    loss: { type: "string", arg: "P", doc: "Packet loss on every link, e.g. 0.01." },
    exit: { type: "boolean", doc: "Tear down after the three cases instead of serving the dashboard until Ctrl-C." },
    "dashboard-port": { type: "string", arg: "N", doc: "Port on 127.0.0.1 for the origin's dashboard (default 4180; 0: a free one)." },
  },
  async run({ values, out }) {
    const { requireRoot } = await import("../../testbed/lifecycle.ts");
    requireRoot("the demo", "Run it as root: sudo icon demo (or make demo).");
    const loss = numberFlag(values, "loss", 0, { min: 0, below: 1 });
    const dashboardPort = numberFlag(values, "dashboard-port", 4180, { min: 0, max: 65535, int: true });
    const { MigrationLab } = await import("../../lab/lab.ts");
    const t0 = performance.now();
    out.info("icon demo: a client on UD connects to an ICON on IEP1 (92 ms away); IEP2 is 14 ms from UD.\n");
    const lab = await MigrationLab.open({
      name: "demo",
      loss,
      progress: (step, d) => out.progress({ type: "setup", step, ...d }, `  setting up: ${step}${d?.host ? ` (${d.host})` : ""}${d?.detail ? `: ${d.detail}` : ""}`),
    });
    const results: { case: Case; ok: boolean; totalMs?: number; mode?: string; phasesMs: object; error?: string }[] = [];
    try {
      const rtts = await lab.rtts();
      const floor = 3 * rtts.clientOrigin + 3 * rtts.clientEdge;
      out.info(`\n  RTT UD-IEP1 ${rtts.clientOrigin.toFixed(1)} ms, UD-IEP2 ${rtts.clientEdge.toFixed(1)} ms, IEP1-IEP2 ${rtts.originEdge.toFixed(1)} ms; floor F = ${floor.toFixed(0)} ms (3 RTT to each)`);
      const steps: { c: Case; what: string; prepare?: () => Promise<void> }[] = [
        { c: "cold", what: "the edge has never run this ICON: its image layers are shipped from IEP1" },
        { c: "direct", what: "the replica on the edge is running: the client is sent there at once" },
        { c: "hot", what: "the edge node restarted (its ICONs stopped): the stopped replica is started", prepare: () => lab.restartEdge() },
      ];
      for (const s of steps) {
        out.info(`\n${s.c.toUpperCase()}: ${s.what}`);
        await s.prepare?.();
        const r = await lab.client({ onPhase: (p, ms) => out.progress({ type: "phase", case: s.c, phase: p, ms }, `  ${ms.toFixed(1).padStart(8)} ms  ${p}`) });
        results.push({ case: s.c, ok: r.ok, totalMs: r.totalMs, mode: r.mode, phasesMs: r.phasesMs, error: r.error });
        out.info(r.ok ? `  switched to ${r.edge} in ${r.totalMs} ms = ${(r.totalMs! / floor).toFixed(2)} F (mode ${r.mode}, state intact)` : `  FAILED: ${r.error}`);
      }
      out.data({ rttMs: rtts, floorMs: Math.round(floor), cases: results, elapsedMs: Math.round(performance.now() - t0) }, () =>
        "\n" + table(["case", "switched in", "F", "mode"], results.map((r) => [r.case, r.ok ? `${r.totalMs} ms` : `failed: ${r.error}`, r.ok ? (r.totalMs! / floor).toFixed(2) : "-", r.mode])) +
        `\n(thesis IPO: direct 575 ms = 1.81 F, hot 4197 ms = 13.2 F, cold 11613 ms = 36.5 F)`,
      );
      if (!values.exit) await serveDashboardUntilSignal(lab, dashboardPort, out);
    } finally {
      if (values.keep)
        out.info(`\nleft up: ${Object.entries(lab.dataDirs()).map(([h, d]) => `${h}: icon ps --data-dir ${d}`).join("; ")}\nicon testbed down --name demo removes everything`);
      await lab.close({ keep: values.keep === true });
    }
    return results.every((r) => r.ok) ? 0 : 1;
  },
});
