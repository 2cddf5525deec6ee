/**
 * Where the node's own engine lives, derived from the data dir alone, so that a node restarted after
 * a crash (or `icon engine rm`) finds every part of it again: a key of 12 hex digits hashed from the
 * data dir names its run directory (socket, exec-root, pidfile: short enough for containerd's socket
 * paths), its data root, its cgroups, its bridge and its firewall chains. Several nodes on one machine
 * therefore never share anything.
 *
 * The data root is not inside the data dir: with user namespaces on, dockerd needs every directory
 * above its data root to be traversable by the remapped root (uid 100000), and the data dir is 0700
 * (and ~/.icon of root sits in /root, 0700 too).
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { dockerdPaths, type DockerdPlan } from "../daemon/plan.ts";

/** Parents of every node engine's run directories and data roots. */
export const ENGINE_RUN_DIR = "/run/icon/engines";
export const ENGINE_DATA_DIR = "/var/lib/icon/engines";

export interface OwnEnginePlan extends DockerdPlan {
  key: string;
  /** The Linux bridge ICONs sit on (at most 15 characters). */
  bridge: string;
  /** Prefix of the node's iptables chains (ICON-<key8>-...). */
  chains: string;
  /** The engine's network on the bridge (its default one). */
  network: string;
}

export function engineKey(dataDir: string): string {
  return createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12);
}

export function ownEnginePlan(dataDir: string): OwnEnginePlan {
  const key = engineKey(dataDir);
  return {
    ...dockerdPaths({
      runDir: join(ENGINE_RUN_DIR, key),
      dataRoot: join(ENGINE_DATA_DIR, key),
      cgroupParent: `/icon/${key}`,
      // Kept with the node's other files, so the operator finds it (`icon node status` names it).
      log: join(resolve(dataDir), "engine.log"),
      fix: "unreachable: the run directory has a fixed length",
    }),
    key,
    bridge: `icon-${key.slice(0, 10)}`,
    chains: `ICON-${key.slice(0, 8)}`,
    network: "bridge",
  };
}
