/**
 * Every path a dockerd of icon's own uses (the node's engine, or one of the testbed's per-host engines),
 * fixed before it starts, so that whoever stops it, even after a crash, finds its processes (by its
 * exec-root), its mounts (under its directories) and its containers' cgroups (under its cgroup parent)
 * without ever going by a program's name.
 */
import { join } from "node:path";
import { IconError } from "../../errors.ts";

export interface DockerdPlan {
  /** dockerd --data-root: images, containers, overlay layers. */
  dataRoot: string;
  /** Directory holding the exec-root, socket, pidfile and config. */
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

/** The paths of an engine whose run directory is `runDir`; refuses one too long for containerd's sockets. */
export function dockerdPaths(o: { runDir: string; dataRoot: string; cgroupParent: string; log?: string; fix: string }): DockerdPlan {
  if (o.runDir.length + LONGEST_SOCKET_SUFFIX.length > SUN_PATH_MAX)
    throw new IconError("USAGE", `the engine directory ${o.runDir} is too long for the Unix sockets dockerd makes in it`, o.fix);
  return {
    dataRoot: o.dataRoot,
    runDir: o.runDir,
    execRoot: join(o.runDir, "x"),
    socket: join(o.runDir, "d.sock"),
    pidfile: join(o.runDir, "d.pid"),
    log: o.log ?? join(o.runDir, "dockerd.log"),
    config: join(o.runDir, "daemon.json"),
    cgroupParent: o.cgroupParent,
  };
}

/** The arguments every one of icon's dockerds gets: its own paths only, nothing of the machine's engine. */
export function dockerdArgs(e: DockerdPlan): string[] {
  return ["--config-file", e.config, "--data-root", e.dataRoot, "--exec-root", e.execRoot, "--pidfile", e.pidfile,
    "-H", `unix://${e.socket}`, "--cgroup-parent", e.cgroupParent];
}
