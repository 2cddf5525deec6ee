import { resolveConfig } from "../../config/resolve.ts";
import { IconError } from "../../errors.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { numberFlag } from "../flags.ts";
import { table } from "../output.ts";

const RATES = [10, 100, 1000];

export const command = defineCommand({
  name: "bench images",
  usage: "icon bench images [--layer-dir DIR]... [--iterations N] [--levels 1,3,...] [--testbed] [--json]",
  description:
    "Image shipping with one large layer (by default the npm packages typescript, hono, @noble and\n" +
    "protobufjs of a source checkout, about 30 MB): for each zstd level, compress + transfer at 10, 100\n" +
    "and 1000 Mbit/s + inflate (the level icon uses was chosen from this); then request to image loaded\n" +
    "between two processes on loopback, with the receiver's RSS, and with --testbed also across the\n" +
    "thesis network, IEP1 to IEP2 (root; the 10 Mbit/s bottleneck). Medians of --iterations samples.",
  options: {
    ...DATA_DIR_OPTION,
    "layer-dir": { type: "string", multiple: true, arg: "DIR", doc: "A folder to make the layer of (repeat for more)." },
    iterations: { type: "string", arg: "N", doc: "Samples per measurement (default 3)." },
    levels: { type: "string", arg: "LIST", doc: "zstd levels to compare (default 1,3,6,9,12,19)." },
    testbed: { type: "boolean", doc: "Also measure across the thesis network (root, brings up testbed bench-images)." },
    ...JSON_OPTION,
  },
  async run({ values, out }) {
    const n = numberFlag(values, "iterations", 3, { int: true, min: 1, max: 100 });
    const levels = (values.levels ?? "1,3,6,9,12,19").split(",").map(Number);
    if (levels.some((l) => !Number.isInteger(l) || l < 1 || l > 19)) throw new IconError("USAGE", `--levels ${values.levels}: levels are 1 to 19`);
    const { benchImage, defaultLayerDirs, layerBytes } = await import("../../bench/images/layer.ts");
    const dirs = values["layer-dir"]?.length ? values["layer-dir"] : defaultLayerDirs();
    if (!dirs) throw new IconError("USAGE", "this binary has no npm packages beside it to make the layer of", "Pass --layer-dir DIR (any folder of about 30 MB).");
    const { measureLevels } = await import("../../bench/images/levels.ts");
    out.info(`compressing the layer at levels ${levels.join(", ")}...`);
    const levelsReport = await measureLevels(await layerBytes(dirs), { levels, ratesMbit: RATES, rounds: n });
    const { config } = await resolveConfig({ flags: { dataDir: values["data-dir"] } });
    const { createDockerEngine } = await import("../../engine/docker-engine.ts");
    const engine = await createDockerEngine(config.dockerSocket);
    const image = await benchImage(engine, dirs);
    const { shipLoopback, shipThesisNetwork } = await import("../../bench/images/ship.ts");
    out.info(`shipping it ${n} times on loopback...`);
    const ship = [await shipLoopback(engine, config.dockerSocket, image, n)];
    if (values.testbed) ship.push(await shipThesisNetwork(engine, image, n, (m) => out.info(m)));
    const report = { layerBytes: levelsReport.rawBytes, levels: levelsReport, ship };
    out.data(report, () =>
      [
        `layer: ${(report.layerBytes / 1e6).toFixed(1)} MB raw`,
        table(["level", "MB", "ratio", "compress ms", "inflate ms", ...RATES.map((r) => `total @${r} Mbit/s`)],
          levelsReport.rows.map((r) => [r.level, (r.bytes / 1e6).toFixed(2), r.ratio, r.compressMs, r.inflateMs, ...RATES.map((rate) => `${r.totalMs[rate]}${levelsReport.best[rate] === r.level ? " *" : ""}`)])),
        "",
        table(["path", "request -> loaded ms", "load ms", "MB sent", "receiver RSS MB (before -> peak)"],
          ship.flatMap((s) => s.samples.map((x) => [s.path, x.ms, x.loadMs, (x.bytes / 1e6).toFixed(2), `${x.rssBeforeMb} -> ${x.rssPeakMb}`]))),
        ...ship.map((s) => `median ${s.path}: ${s.medianMs} ms`),
      ].join("\n"),
    );
  },
});
