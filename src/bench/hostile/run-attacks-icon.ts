/**
 * The attacks from inside an ICON (findings 6 and 7, and finding 3's laundering): the attacker has its
 * own probe images (probe-icon.ts, USER root in four spellings, one with a VOLUME) run as replicas on
 * the node with a replicate request and its own manifest, as any stranger can on an open node. The
 * probe connects to what it must not reach, writes into its socket directory and fills its volume, then
 * serves its report, which the attacker reads at the replica's published port; the bench finds the
 * replica's process on the host for its uid. On the origin the first probe also replicates itself onward
 * to the edge, which admits the origin's own ICONs only.
 */
import { answer, nameParam } from "../../api/client.ts";
import { generateIdentity } from "../../identity/identity.ts";
import { attackerNetwork, serveImage, within } from "./image-peer.ts";
import { judgeReach } from "./icon-reach.ts";
import { ADMISSION_ATTACKS } from "./admission-table.ts";
import type { ProbeReport, ProbeTarget } from "./probe-icon.ts";
import { ReplicateAttacker, type Answer } from "./replicate-attacker.ts";
import type { AttackReport } from "./report.ts";
import { judgeRoot } from "./root-in-icon.ts";
import type { BenchAttack } from "./run-attack.ts";
import { peerEndpoint, type AttackContext } from "./run-context.ts";
import type { HostileTarget, ProbeImage } from "./run-spec.ts";
import { hostileImageOf } from "./user-engine-tags.ts";

const FILL_MB = 96;
const LAUNDER = ADMISSION_ATTACKS[6]!;

/** What the probe on `t` must not reach: its host, the other node, the client, the attacker, metadata, its node's other ICONs. */
function forbidden(ctx: AttackContext, t: HostileTarget): ProbeTarget[] {
  const other = ctx.target(t.role === "origin" ? "edge" : "origin");
  return [
    { name: "gateway (the host as the ICON sees it)", host: "gateway", port: t.peerPort },
    { name: "the host's own address", host: t.address, port: t.peerPort },
    { name: `the other node (${other.role})`, host: other.address, port: other.peerPort },
    { name: "the client (a private address)", host: ctx.spec.client, port: 9 },
    { name: "the attacker host", host: ctx.spec.attacker.primary, port: 9 },
    { name: "the metadata address", host: "169.254.169.254", port: 80 },
    ...(ctx.spec.neighbours[t.role] ?? []),
  ];
}

interface ProbeRun {
  answer: Answer;
  report?: ProbeReport;
  pid: number;
}

/** Has `probe` run as a replica on `t` with `env`; its report once `done` holds for it (or after 60 s). */
async function runProbe(ctx: AttackContext, t: HostileTarget, probe: ProbeImage, env: Record<string, string>, done: (r: ProbeReport) => boolean): Promise<ProbeRun> {
  const image = hostileImageOf(await Bun.file(probe.archive).bytes());
  const net = await attackerNetwork();
  serveImage(net, image);
  try {
    const ask = { icon: `probe-${probe.variant}`, image: { ref: `probe:${probe.variant}`, id: image.id, diffIds: image.diffIds }, env };
    const a = await new ReplicateAttacker(net, generateIdentity()).replicate(peerEndpoint(t), ask, 120_000);
    if (!a.ok) return { answer: a, pid: 0 };
    const { address, port } = a.result.endpoint;
    const report = await within(60_000, async () => {
      const r = await fetch(`http://${address}:${port}/report`).then((x) => (x.ok ? (x.json() as Promise<ProbeReport>) : undefined), () => undefined);
      return r && done(r) ? r : undefined;
    });
    // The replica's id is "parent node id/name on this node".
    const view = await answer(ctx.api(t).v1.icons[":name"].$get({ param: nameParam(a.result.replica.split("/").at(-1)!) }));
    const pid = (await (await ctx.engine(t)).inspectContainer(view.containerId ?? ""))?.pid ?? 0;
    return { answer: a, report, pid };
  } finally {
    await net.stop();
  }
}

async function probes(ctx: AttackContext, t: HostileTarget): Promise<AttackReport[]> {
  const out: AttackReport[] = [];
  const targets = forbidden(ctx, t);
  const edge = ctx.target("edge");
  const launder = t.role === "origin" && edge.admission === "allowlist";
  for (const [i, probe] of ctx.spec.probes.entries()) {
    const env: Record<string, string> = { PROBES: JSON.stringify(targets), ROUNDS: "2", CHECK_SOCKET_DIR: "1", FILL: probe.volumes.join(","), FILL_MB: String(FILL_MB) };
    const onward = launder && i === 0;
    if (onward) env.REPLICATE_TO = JSON.stringify({ nodeId: edge.nodeId, address: edge.address, peerPort: edge.peerPort });
    const run = await runProbe(ctx, t, probe, env, (r) => !onward || r.launder !== undefined);
    const refused = (finding: number, attack: string): AttackReport => ({ finding, attack, outcome: "refused", detail: { answer: run.answer.ok ? "ran, but served no report" : `${run.answer.code}: ${run.answer.message}` } });
    const root = `root-in-icon (USER ${probe.user}${probe.volumes.length ? `, VOLUME ${probe.volumes.join(" ")}` : ""})`;
    if (!run.report) {
      out.push(refused(7, root));
      if (i === 0) out.push(refused(6, "icon-reach"));
      continue;
    }
    const r = judgeRoot(run.report, run.pid, FILL_MB);
    out.push({ finding: 7, attack: root, outcome: r.outcome, detail: { uidInside: run.report.uid, hostUid: r.hostUid, hostGid: r.hostGid, socketDir: `${run.report.socketDirWrite}/${run.report.socketDirSymlink}`, breaches: r.breaches.join("; ") || "none", fills: JSON.stringify(run.report.fills) } });
    if (i === 0) {
      const reach = judgeReach(run.report, targets);
      out.push({ finding: 6, attack: "icon-reach", outcome: reach.outcome, detail: { targets: targets.length, reached: reach.reachedForbidden.join(", ") || "none", ends: JSON.stringify(run.report.probes) } });
    }
    if (onward) {
      const l = run.report.launder;
      out.push({ finding: 3, attack: LAUNDER.attack, outcome: l?.ran ? "succeeded" : "refused", detail: { onwardTo: "edge", answer: l ? (l.ran ? "the replica ran" : l.failure ?? "") : "no answer within 60 s" } });
    }
  }
  return out;
}

export const ICON_ATTACKS: BenchAttack[] = [
  {
    name: "probe ICONs (findings 6, 7 and laundering)", finding: 7, at: ["origin", "edge"], run: probes,
    once: "each probe is a replica that stays on the node, like the hostile tests' ICONs: one per USER spelling, once",
  },
];
