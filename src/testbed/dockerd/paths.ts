/**
 * Where a per-host Docker engine (`up --engines`) keeps everything, derived from the testbed and host
 * names so the plan (and so the state file, written before anything starts) names every path `down`
 * must clean: images and containers under /var/lib/icon-testbed/TESTBED/HOST, the daemon's socket,
 * pidfile, log, config and exec-root under /run/icon-testbed/TESTBED-HOST, and its containers' cgroups
 * under /icon-testbed/TESTBED-HOST (apart from the main engine's /docker, and findable after a crash).
 */
import { join } from "node:path";
import { dockerdPaths, type DockerdPlan } from "../../engine/daemon/plan.ts";
import { STATE_DIR } from "../names.ts";

export const DOCKERD_DATA_DIR = "/var/lib/icon-testbed";
/** Parent of every engine's container cgroups, in each cgroup hierarchy. */
export const DOCKERD_CGROUP_DIR = "/icon-testbed";

export function dockerdPlan(testbed: string, host: string, stateDir = STATE_DIR): DockerdPlan {
  return dockerdPaths({
    runDir: join(stateDir, `${testbed}-${host}`),
    dataRoot: join(DOCKERD_DATA_DIR, testbed, host),
    cgroupParent: `${DOCKERD_CGROUP_DIR}/${testbed}-${host}`,
    fix: "Use a shorter testbed name or a shorter ICON_TESTBED_STATE_DIR.",
  });
}
