import { benchEngines, type Spread } from "../../bench/testbed-engines.ts";
import { testbedName } from "../../testbed/names.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";

const s = (x: Spread) => `${x.median} (${x.min}-${x.max})`;
const mb = (kb: number) => (kb / 1024).toFixed(1);

export const command = defineCommand({
  name: "bench testbed-engines",
  usage: "icon bench testbed-engines [--name NAME] [--rounds N] [--image REF]... [--json]",
  description: `Each round brings the thesis topology up with --docker and down, then with --engines, copies the pause
image (and every --image) from the main engine into IEP1's engine, and takes it down. Reports medians (min-max)
of up and down times, each engine's spawn-to-ping time, and each idle engine's memory (dockerd and its
containerd: RSS, and PSS, which shares the binaries' pages between the engines).`,
  options: {
    name: { type: "string", arg: "NAME", doc: 'Testbed name to use (default "enbench").' },
    rounds: { type: "string", arg: "N", doc: "Rounds (default 3)." },
    image: { type: "string", multiple: true, arg: "REF", doc: "Also copy this image from the main engine each round." },
    ...JSON_OPTION,
  },
  async run({ values, out }) {
    const rounds = numberFlag(values, "rounds", 3, { int: true, min: 1 });
    const images = (values.image ?? []).filter(Boolean);
    const r = await benchEngines({
      name: testbedName(values.name ?? "enbench"), rounds, images,
      progress: (e, human) => out.progress(e, human),
      note: (msg) => out.progress({ type: "bench", message: msg }, msg),
    });
    out.data(r, () => [
      `thesis testbed, ${r.cores} cores, load average ${r.loadBefore.join(" ")} before, ${r.loadAfter.join(" ")} after, ${rounds} rounds`,
      "",
      table(["ms, median (min-max)", "--docker", "--engines"], [["up", s(r.upDockerMs), s(r.upEnginesMs)], ["down", s(r.downDockerMs), s(r.downEnginesMs)]]),
      `each engine, spawn to first answered ping: ${s(r.engineStartMs)} ms`,
      "",
      table(["engine", "dockerd RSS MB", "containerd RSS MB", "PSS of both MB"], r.memory.map((m) => [m.host, mb(m.dockerdRssKb), mb(m.containerdRssKb), mb(m.pssKb)])),
      "",
      table(["copy into IEP1", "MB", "ms, median (min-max)"], r.copies.map((c) => [c.ref, (c.bytes / 1e6).toFixed(1), s(c.ms)])),
    ].join("\n"));
  },
});
