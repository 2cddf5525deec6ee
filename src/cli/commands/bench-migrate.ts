import { join } from "node:path";
import { IconError } from "../../errors.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table, type Output } from "../output.ts";
import { loadTopology, natFlags, TOPOLOGY_OPTIONS } from "./testbed-common.ts";
import type { Case, MigrateBenchResult } from "../../bench/migrate/run.ts";
import { numberFlag } from "../flags.ts";

/** Writes the report and plots of an earlier run (its results.json) again, e.g. after the renderer improved. */
async function rerender(file: string, dir: string | undefined, out: Output): Promise<number> {
  if (!dir) throw new IconError("USAGE", "--from needs --out DIR", "Pass the directory to write the report into.");
  let parsed: MigrateBenchResult & { command?: string };
  try {
    parsed = await Bun.file(file).json();
  } catch (e) {
    throw new IconError("INVALID_INPUT", `${file} is not a results.json of icon bench migrate: ${(e as Error).message}`, "Pass the results.json that --out wrote.");
  }
  if (!parsed.cases || !parsed.samples || typeof parsed.floorMs !== "number")
    throw new IconError("INVALID_INPUT", `${file} has no cases, samples or floorMs`, "Pass the results.json that --out wrote.");
  const { command = "icon bench migrate", ...result } = parsed;
  const { writeReport } = await import("../../bench/migrate/report.ts");
  out.info(`wrote ${(await writeReport(dir, result, command)).join(", ")}`);
  return 0;
}

export const command = defineCommand({
  name: "bench migrate",
  usage: "icon bench migrate [--case all|CASE[,CASE...]] [-n N] [--app IMAGE] [--large-app IMAGE] [--dht-nodes N] [--loss P]\n" +
    "       [--topology T --client H --origin H --edge H] [--nat KIND@HOST] [--ipv6] [--firewall6] [--numbering N] [--out DIR [--resume]] [--json]\n" +
    "       icon bench migrate --from RESULTS.json --out DIR",
  description:
    "Brings up the thesis network, new nodes for each case (the origin, the edge, each with its own Docker engine,\n" +
    "and DHT helpers on every host) and the root ICON on the origin; per case one dry run (discarded) and N samples\n" +
    "of the sample client on UD. Cases: first (a client from a /24 nobody has traced, the origin's caches flushed),\n" +
    "direct (caches warm), warm (the replica paused), hot (the edge node restarted, sampled at once), cold-small and\n" +
    "cold-large (replica, image and received layers removed; the small app or the large one), cold-registry\n" +
    "(cold-large with the image pulled from a registry on the origin host, as the thesis's IPO did). Reports mean,\n" +
    "median, p99, sd, 95%/99% confidence intervals, the median in units of F = 3·RTT(client,origin) +\n" +
    "3·RTT(client,edge) and, for cold cases, of the cold floor F + bytes shipped / the path's rate, all measured in\n" +
    "the same run, and states each case's procedure. --out writes results.json, report.md and SVG plots, and every\n" +
    "sample to journal.ndjson as it is taken: --resume goes on with a run that was stopped (same binary, same\n" +
    "command), taking only the samples still missing per case; the report covers every part.\n" +
    "--app runs any image built FROM icon-runtime:<version> that speaks the sample protocol as the small app;\n" +
    "the large app is built by examples/playground-app/build.sh. Another network: --topology random|FILE and the\n" +
    "hosts that play the client, the origin and the edge. --nat, --ipv6 and --numbering change the network as in\n" +
    "icon testbed up, e.g. --nat upnp@IEP2 puts the edge behind a UPnP home router.",
  options: {
    ...JSON_OPTION,
    case: { type: "string", arg: "CASE", doc: "all, or a comma-separated list of first, direct, warm, hot, cold-small, cold-large, cold-registry (default all).", default: "all" },
    n: { type: "string", short: "n", arg: "N", doc: "Samples per case (default 20)." },
    app: { type: "string", arg: "IMAGE", doc: "The small app's image on this machine's engine (default: the sample app, built here)." },
    "large-app": { type: "string", arg: "IMAGE", doc: "The large app's image (default icon-playground-app:<version>, from examples/playground-app/build.sh)." },
    "dht-nodes": { type: "string", arg: "N", doc: "Nodes in the DHT, the origin and the edge included (default 40; at least 2)." },
    loss: { type: "string", arg: "P", doc: "Packet loss on every link, e.g. 0.01 (default 0)." },
    ...TOPOLOGY_OPTIONS,
    client: { type: "string", arg: "HOST", doc: "The host that runs the clients (default UD)." },
    origin: { type: "string", arg: "HOST", doc: "The host that runs the root ICON (default IEP1)." },
    edge: { type: "string", arg: "HOST", doc: "The host near the client the ICON replicates to (default IEP2)." },
    out: { type: "string", arg: "DIR", doc: "Write results.json, report.md and plots here." },
    name: { type: "string", arg: "NAME", doc: "Testbed name (default bench-migrate).", default: "bench-migrate" },
    "timeout-ms": { type: "string", arg: "N", doc: "A sample that has not switched by then fails (default 30000)." },
    "logs-dir": { type: "string", arg: "DIR", doc: "Keep the nodes' logs here (for looking into failed samples)." },
    from: { type: "string", arg: "FILE", doc: "Do not measure: write the report and plots of an earlier run's results.json into --out." },
    resume: { type: "boolean", doc: "Go on with the run whose journal.ndjson is in --out: the samples still missing per case." },
  },
  examples: [
    "icon bench migrate -n 5",
    "icon bench migrate --case all -n 1000 --out docs/bench/migrate   # stopped? the same with --resume",
    "icon bench migrate --case warm,hot --app my-icon:1 -n 20",
    "icon bench migrate --topology random --seed 3 --client UD1 --origin IEP1 --edge IEP3 -n 20",
    "icon bench migrate -n 20 --nat upnp@IEP2",
  ],
  async run({ values, out }) {
    if (values.from !== undefined) return rerender(values.from, values.out, out);
    const { CASES, runMigrateBench } = await import("../../bench/migrate/run.ts");
    const { THESIS_ROLES, checkRoles } = await import("../../lab/lab.ts");
    const { runtimeTag } = await import("../../yard/runtime-image.ts");
    const which = values.case;
    const cases = which === "all" ? [...CASES] : which.split(",").map((c) => c.trim());
    for (const c of cases)
      if (!(CASES as readonly string[]).includes(c)) throw new IconError("USAGE", `--case ${c}: expected all or ${CASES.join(", ")}`);
    const n = numberFlag(values, "n", 20, { int: true, min: 1 });
    const loss = numberFlag(values, "loss", 0, { min: 0, below: 1 });
    const timeoutMs = numberFlag(values, "timeout-ms", 30_000, { above: 0 });
    const dhtNodes = numberFlag(values, "dht-nodes", 40, { int: true, min: 2, max: 500 });
    // --ipv6, --numbering, --nat and --firewall6 as `icon testbed up` takes them; the lab applies --loss itself.
    const topology = loadTopology({ ...values, loss: undefined });
    const role = (part: keyof typeof THESIS_ROLES) => values[part] ?? THESIS_ROLES[part];
    const roles = { client: role("client"), origin: role("origin"), edge: role("edge") };
    checkRoles(topology, roles);
    const { requireRoot } = await import("../../testbed/lifecycle.ts");
    requireRoot("the benchmark", "Run it as root: sudo icon bench migrate ...");
    const network = topology.source === "thesis" ? "" : ` --topology ${values.topology}${values.topology === "random" ? ` --seed ${values.seed ?? 1} --hosts ${values.hosts ?? 6}` : ""}`;
    const parts = Object.entries(roles).filter(([k, v]) => THESIS_ROLES[k as keyof typeof roles] !== v).map(([k, v]) => ` --${k} ${v}`).join("");
    const apps = `${values.app ? ` --app ${values.app}` : ""}${values["large-app"] ? ` --large-app ${values["large-app"]}` : ""}`;
    const variant = `${values.ipv6 ? " --ipv6" : ""}${values.numbering ? ` --numbering ${values.numbering}` : ""}${natFlags(values).map(([h, k]) => ` --nat ${k}@${h}`).join("")}${values.firewall6 ? " --firewall6" : ""}`;
    const commandLine = `icon bench migrate --case ${which} -n ${n} --dht-nodes ${dhtNodes}${apps}${loss ? ` --loss ${loss}` : ""}${network}${variant}${parts}`;
    if (values.resume && !values.out) throw new IconError("USAGE", "--resume needs --out DIR", "Pass the --out of the run to go on with.");
    const { JOURNAL, Journal } = await import("../../bench/migrate/journal.ts");
    const { VERSION } = await import("../../version.ts");
    const journal = values.out ? Journal.open(values.out, { resume: values.resume === true, command: commandLine, version: VERSION }) : undefined;
    const { writeReport } = await import("../../bench/migrate/report.ts");
    const write = async (r: MigrateBenchResult) => {
      if (values.out) out.info(`wrote ${(await writeReport(values.out, r, commandLine)).join(", ")}`);
    };
    const todo = (cases as Case[]).filter((c) => (journal?.have(c) ?? 0) < n);
    let result: MigrateBenchResult | undefined;
    // Ctrl-C or SIGTERM: the sample in progress ends, the testbed comes down, the journal keeps every sample.
    const stop = new AbortController();
    const onSignal = (sig: string) => {
      if (stop.signal.aborted) process.exit(130); // a second one: now, leaving the testbed up (the next run takes it over)
      out.progress({ type: "stopping", signal: sig }, `${sig}: stopping after this sample, then taking the testbed down (again: at once)`);
      stop.abort(sig);
    };
    const onInt = () => onSignal("SIGINT"), onTerm = () => onSignal("SIGTERM");
    if (todo.length) {
      process.on("SIGINT", onInt).on("SIGTERM", onTerm);
      result = await runMigrateBench({
        signal: stop.signal,
        cases: todo,
        n,
        loss,
        topology,
        roles,
        name: values.name,
        logsDir: values["logs-dir"],
        timeoutMs,
        app: values.app,
        largeApp: values["large-app"] ?? `icon-playground-app:${runtimeTag()}`,
        dhtHelpers: dhtNodes - 2,
        ...(journal && {
          done: Object.fromEntries(todo.map((c) => [c, journal.have(c)])),
          onMeasured: (info) => journal.startPart({ ...info, command: commandLine }),
          onSample: (c, k, sample) => journal.addSample(c, k, sample),
          // The report so far after each case: a long run is readable while it goes on.
          onCaseDone: () => write(journal.result()!),
        }),
        progress: (e, human) => out.progress(e, human),
      }).finally(() => process.off("SIGINT", onInt).off("SIGTERM", onTerm));
    } else out.info(`every case has its ${n} samples in ${values.out}: nothing to measure`);
    result = journal?.result() ?? result;
    if (journal && result) await write(result);
    if (stop.signal.aborted)
      throw new IconError("FAILED", `stopped by ${stop.signal.reason}${journal ? `; the samples taken so far are in ${join(values.out!, JOURNAL)}` : ""}`,
        journal ? "Go on with the same command and --resume." : "Run it again (with --out DIR, a stopped run can be resumed).");
    if (!result) return 0;
    const { samples: _, ...summary } = result;
    out.data(summary, () =>
      `F = ${result.floorMs.toFixed(1)} ms\n` +
      table(["case", "ok", "mean", "median", "p99", "sd", "ci95", "median/F", "median/cold floor"],
        Object.entries(result.cases).map(([c, s]) => [c, `${s!.successes}/${s!.n}`, s!.meanMs, s!.medianMs, s!.p99Ms, s!.sdMs, `±${s!.ci95Ms}`, s!.ratioToFloor, s!.ratioToColdFloor ?? "-"])),
    );
    return Object.values(result.cases).every((s) => s!.failures === 0) ? 0 : 1;
  },
});
