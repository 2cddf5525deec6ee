import { clientFor, readStream } from "../../api/client.ts";
import { IconError } from "../../errors.ts";
import type { StateEvent } from "../../yard/state.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { optionalNumberFlag } from "../flags.ts";

/** "hello: RUNNING at 10.0.0.2:8080" */
export function stateLine(ev: StateEvent): string {
  const where = ev.state === "RUNNING" ? ` at ${ev.address}:${ev.port}` : "";
  return `${ev.name}: ${ev.state}${where}${ev.reason ? ` (${ev.reason})` : ""}`;
}

function parseEnv(list: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new IconError("USAGE", `-e ${kv}: expected NAME=VALUE`, "Pass environment variables as -e NAME=VALUE.");
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

export const command = defineCommand({
  name: "run",
  usage: "icon run IMAGE [--name N] [--port P] [-e K=V]... [--memory M] [--cpus C] [--pids N] [--user U] [--json]",
  description:
    "Creates the ICON's container on the running node, hardened by default (no capabilities,\n" +
    "no-new-privileges, read-only root with a tmpfs /tmp, memory/CPU/PIDs limits, non-root user), starts\n" +
    "it and streams its states until its runtime calls icon.ready() (RUNNING) or it fails.\n" +
    "The ICON listens on ICON_PORT: --port pins it (published on the host, or inside the node's\n" +
    "networkContainer); without --port one is taken from portRange. No registry is used: build the image\n" +
    "locally (FROM icon-runtime, see \"icon runtime build\").",
  options: {
    ...DATA_DIR_OPTION,
    name: { type: "string", arg: "N", doc: "ICON name (default: from the image name)." },
    port: { type: "string", arg: "P", doc: "Fixed port clients use (the root ICON's universally known port)." },
    env: { type: "string", short: "e", arg: "K=V", multiple: true, doc: "Environment variable for the ICON." },
    memory: { type: "string", arg: "M", doc: "Memory limit, e.g. 256m (default: config iconMemory)." },
    cpus: { type: "string", arg: "C", doc: "CPU limit, e.g. 0.5 (default: config iconCpus)." },
    pids: { type: "string", arg: "N", doc: "PIDs limit (default: config iconPids)." },
    user: { type: "string", arg: "UID:GID", doc: "Run as this user instead of the image's (nobody if the image runs as root)." },
    "ready-timeout": { type: "string", arg: "SEC", doc: "Seconds to wait for icon.ready() (default: config iconReadySec)." },
    ...JSON_OPTION,
  },
  positionals: [1, 1],
  examples: ["icon run hello-icon:latest --name hello --port 8080", "icon run hello-icon:latest -e GREETING=hi --memory 128m --json"],
  async run({ values, positionals, out }) {
    const body = {
      image: positionals[0]!,
      name: values.name,
      port: optionalNumberFlag(values, "port", { int: true }),
      env: parseEnv(values.env ?? []),
      memory: values.memory,
      cpus: optionalNumberFlag(values, "cpus"),
      pids: optionalNumberFlag(values, "pids", { int: true }),
      user: values.user,
      readyTimeoutSec: optionalNumberFlag(values, "ready-timeout", { int: true }),
    };
    const view = await readStream(clientFor(values).v1.icons.$post({ json: body }), (ev) => out.progress(ev, stateLine(ev)));
    out.data(view, () => `${view.name} RUNNING at ${view.address}:${view.port}`);
  },
});
