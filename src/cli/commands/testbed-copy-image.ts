import { copyImage, dockerSocket } from "../../testbed/index.ts";
import { status } from "../../testbed/lifecycle.ts";
import { testbedName } from "../../testbed/names.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { NAME_OPTION } from "./testbed-common.ts";

export const command = defineCommand({
  name: "testbed copy-image",
  usage: "icon testbed copy-image [--name NAME] [--from SOCKET] HOST IMAGE [--json]",
  description: `The same as docker save IMAGE | docker -H unix://SOCKET load, through the Engine API (no docker CLI
needed), streamed. Nothing is sent when the host's engine already holds the same image id.
--json prints {ref, id, copied, bytes, ms}.`,
  options: {
    ...NAME_OPTION,
    from: { type: "string", arg: "SOCKET", doc: "Engine to copy from (default /var/run/docker.sock), e.g. another host's dockerSocket." },
    ...JSON_OPTION,
  },
  positionals: [2, 2],
  examples: ["icon testbed copy-image IEP1 icon-testbed-pause:latest"],
  async run({ values, positionals, out }) {
    const st = await status(testbedName(values.name));
    const [host, ref] = positionals as [string, string];
    const r = await copyImage(ref, { to: dockerSocket(st, host), ...(typeof values.from === "string" ? { from: values.from } : {}) });
    out.data(r, () => (r.copied ? `copied ${ref} (${r.id.slice(7, 19)}, ${(r.bytes / 1e6).toFixed(1)} MB) to ${host} in ${Math.round(r.ms)} ms` : `${host} already holds ${ref} (${r.id.slice(7, 19)})`));
  },
});
