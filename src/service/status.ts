/**
 * Is the node's service installed, enabled and active (systemctl), and does the node answer on its
 * local API socket? The data dir comes from the installed unit, so the answer is about that node.
 */
import { answer, nodeClient } from "../api/client.ts";
import { isIconError } from "../errors.ts";
import { locate, type ServiceHost, type UnitLocation } from "./install.ts";
import { dataDirOf } from "./unit.ts";

export interface ServiceStatus {
  unit: string;
  path: string;
  installed: boolean;
  dataDir?: string;
  /** enabled/active as systemctl says them ("enabled", "disabled", "active", "failed"...); absent without systemd. */
  systemd: { running: boolean; enabled?: string; active?: string };
  node: { answers: true; nodeId: string; version: string; pid: number } | { answers: false; error: string };
}

export async function serviceStatus(l: UnitLocation, host: Pick<ServiceHost, "systemd">): Promise<ServiceStatus> {
  const { unit, path } = locate(l);
  const text = await Bun.file(path).text().catch(() => undefined);
  const dataDir = text === undefined ? undefined : dataDirOf(text);
  const running = host.systemd.running();
  const ask = (verb: string) => host.systemd.systemctl([verb, unit]).stdout.trim() || undefined;
  const systemd = running ? { running, enabled: ask("is-enabled"), active: ask("is-active") } : { running };
  let node: ServiceStatus["node"] = { answers: false, error: text === undefined ? `${path} is not installed` : `${path} names no --data-dir` };
  if (dataDir) {
    try {
      const s = await answer(nodeClient(dataDir).v1.status.$get());
      node = { answers: true, nodeId: s.nodeId, version: s.version, pid: s.pid };
    } catch (e) {
      if (!isIconError(e)) throw e;
      node = { answers: false, error: e.message };
    }
  }
  return { unit, path, installed: text !== undefined, dataDir, systemd, node };
}
