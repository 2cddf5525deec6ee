/**
 * What bench hostile keeps of a sample that failed, for the next look at its rare 30 s hang (a client
 * that heard nothing from the origin ICON after its welcome): the origin ICON's own log (the sample app
 * prints why a client stays, the runtime its errors), both nodes' ICONs, and the root ICON's link-layer
 * view: the gateway address it sends to beside its bridge's address now (they differ when the bridge
 * followed its ports' addresses), and its TCP connections as its kernel sees them.
 */
import { appendFile } from "node:fs/promises";
import { answer, nameParam, readStream } from "../../api/client.ts";
import { APP_NAME, type MigrationLab } from "../../lab/lab.ts";
import type { ClientResult } from "../../lab/client.ts";
import { inHost } from "../../testbed/index.ts";
import { run } from "../../util/command.ts";

const LOG_TAIL = "200";

async function section(title: string, body: () => Promise<string>): Promise<string> {
  const text = await body().catch((e) => `(could not read: ${(e as Error).message})`);
  return `--- ${title}\n${text.trim()}\n`;
}

async function shell(argv: string[]): Promise<string> {
  const r = await run(argv);
  return `$ ${argv.join(" ")}\n${r.stdout}${r.stderr}`;
}

export async function keepFailedSample(lab: MigrationLab, file: string, label: string, r: ClientResult): Promise<void> {
  const origin = lab.nodes.get(lab.roles.origin).api;
  const parts = [`=== ${new Date().toISOString()} ${label}: ${r.error}\nphases: ${JSON.stringify(r.phasesMs)}\n`];
  for (const role of ["origin", "edge"] as const)
    parts.push(await section(`${role}'s ICONs`, async () =>
      (await answer(lab.nodes.get(lab.roles[role]).api.v1.icons.$get({ query: { all: "1" } }))).map((v) => `${v.name} ${v.role} ${v.state} ${v.network.address ?? ""}:${v.port}`).join("\n")));
  parts.push(await section(`origin ICON ${APP_NAME}'s log (last ${LOG_TAIL} lines)`, async () => {
    const lines: string[] = [];
    await readStream(origin.v1.icons[":name"].logs.$get({ param: nameParam(APP_NAME), query: { tail: LOG_TAIL } }), (ev) => void lines.push((ev as { line?: string }).line ?? ""));
    return lines.join("\n");
  }));
  parts.push(await section("the root ICON's gateway and connections; the origin's bridges", async () => {
    const view = await answer(origin.v1.icons[":name"].$get({ param: nameParam(APP_NAME) }));
    const pid = view.containerId ? (await lab.engines.get(lab.roles.origin)?.inspectContainer(view.containerId))?.pid : undefined;
    const inIcon = (cmd: string[]) => (pid ? shell(["nsenter", "-t", String(pid), "-n", ...cmd]) : Promise.resolve("(no container process)"));
    return [await inIcon(["ip", "neigh", "show"]), await inIcon(["ss", "-tni"]), await shell(inHost(lab.st, lab.roles.origin, ["ip", "-br", "link", "show", "type", "bridge"]))].join("\n");
  }));
  await appendFile(file, parts.join("") + "\n");
}
