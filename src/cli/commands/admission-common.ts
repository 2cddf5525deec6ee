/**
 * What every `icon admission` command shares: the change goes to the running node through its local API
 * (which writes `<data-dir>/admission.json` and applies it at once); with no node running there, the CLI
 * changes the file itself, with the node's own code, and a node started later reads it.
 */
import { clientFor, defaultDataDir, type NodeClient } from "../../api/client.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { isIconError } from "../../errors.ts";
import { prepareDataDir } from "../../node/data-dir.ts";
import { Admission, type AdmissionView } from "../../peer/admission.ts";
import type { Output } from "../output.ts";
import { table } from "../output.ts";

type Call = (api: NodeClient["v1"]["admission"]) => Promise<AdmissionView>;

/** `offline` changes the file unless `readOnly`: then the data dir is made (0700) first if needed. */
export async function onAdmission(values: { "data-dir"?: string }, out: Output, online: Call, offline: (a: Admission) => Promise<AdmissionView>, readOnly = false): Promise<AdmissionView> {
  try {
    return await online(clientFor(values).v1.admission);
  } catch (e) {
    if (!isIconError(e, "NOT_RUNNING")) throw e;
  }
  const dataDir = defaultDataDir(values["data-dir"]);
  const { config } = await resolveConfig({ flags: { dataDir } });
  if (!readOnly) await prepareDataDir(dataDir);
  const view = await offline(await Admission.open(dataDir, config.admission));
  out.info(readOnly ? `no node runs with data dir ${dataDir}: read ${view.file}` : `no node runs with data dir ${dataDir}: changed ${view.file}, which a node started there reads`);
  return view;
}

export function renderAdmission(v: AdmissionView): string {
  const lines = [
    `mode    ${v.mode} (${v.modeFrom === "file" ? `set with "icon admission mode", in ${v.file}` : "the admission setting"})`,
    v.mode === "open" ? "        every owner's ICONs may run here as replicas" : "        only the owners below (and this node's own ICONs) may run here as replicas",
  ];
  if (v.self) lines.push(`self    ${v.self} (this node's key, always admitted)`);
  if (v.self) lines.push(`refused ${v.refused} replicate requests since the node started`);
  lines.push("", v.owners.length ? table(["OWNER KEY", "ADDED", "NOTE"], v.owners.map((o) => [o.key, o.addedAt.slice(0, 19).replace("T", " "), o.note ?? ""])) : "no owners on the list");
  return lines.join("\n");
}
