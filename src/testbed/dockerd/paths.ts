/**
 * Where a per-host Docker engine (`up --engines`) keeps everything, derived from the testbed and host
 * names so the plan (and so the state file, written before anything starts) names every path `down`
 * must clean: images and containers under /var/lib/icon-testbed/TESTBED/HOST, the daemon's socket,
 * pidfile, log, config and exec-root under /run/icon-testbed/TESTBED-HOST, and its containers' cgroups
 * under /icon-testbed/TESTBED-HOST (apart from the main engine's /docker, and findable after a crash).
 */
import { join } from "node:path";
import { IconError } from "../../errors.ts";
import { STATE_DIR } from "../names.ts";

export const DOCKERD_DATA_DIR = "/var/lib/icon-testbed";
/** Parent of every engine's container cgroups, in each cgroup hierarchy. */
export const DOCKERD_CGROUP_DIR = "/icon-testbed";

export interface DockerdPlan {
  /** dockerd --data-root: images, containers, overlay layers. */
  dataRoot: string;
  /** Directory holding everything below except the data root; removed whole by `down`. */
  runDir: string;
  /** dockerd --exec-root: its containerd's state and sockets. */
  execRoot: string;
  /** The engine's API socket (`docker -H unix://...`). */
  socket: string;
  pidfile: string;
  log: string;
  /** An empty daemon config, so the machine's /etc/docker/daemon.json never mixes in. */
  config: string;
  /** dockerd --cgroup-parent for its containers. */
  cgroupParent: string;
}

/**
 * The longest socket path the daemon's containerd makes under the exec-root is
 * "containerd/containerd.sock.ttrpc"; sun_path holds 107 bytes and a NUL.
 */
const LONGEST_SOCKET_SUFFIX = "/x/containerd/containerd.sock.ttrpc";
const SUN_PATH_MAX = 107;

export function dockerdPlan(testbed: string, host: string, stateDir = STATE_DIR): DockerdPlan {
  const runDir = join(stateDir, `${testbed}-${host}`);
  if (runDir.length + LONGEST_SOCKET_SUFFIX.length > SUN_PATH_MAX)
    throw new IconError("USAGE", `the engine directory ${runDir} is too long for the Unix sockets dockerd makes in it`,
      "Use a shorter testbed name or a shorter ICON_TESTBED_STATE_DIR.");
  return {
    dataRoot: join(DOCKERD_DATA_DIR, testbed, host),
    runDir,
    execRoot: join(runDir, "x"),
    socket: join(runDir, "d.sock"),
    pidfile: join(runDir, "d.pid"),
    log: join(runDir, "dockerd.log"),
    config: join(runDir, "daemon.json"),
    cgroupParent: `${DOCKERD_CGROUP_DIR}/${testbed}-${host}`,
  };
}
