/**
 * How an ICON record becomes a container: its name and labels (so a restarted node finds its own
 * containers among other nodes' on a shared daemon), the socket mount, the network, and the hardening
 * defaults of DESIGN.md (CIS Docker Benchmark): no capabilities, no-new-privileges, read-only root with
 * a tmpfs /tmp, memory/CPU/PIDs limits, a non-root user (user.ts), the default seccomp profile, no host
 * namespaces, no IPv6, and never the Docker socket inside. The image's VOLUMEs get a size-capped tmpfs
 * each instead of an anonymous volume on the host's disk (tmpfs pages count against the memory limit).
 */
import { SOCKET_DIR, SOCKET_PATH } from "./protocol.ts";
import type { ContainerSpec, NetworkSpec } from "../engine/container-engine.ts";
import type { IconRecord } from "./types.ts";

export const LABELS = {
  node: "icon.node",
  name: "icon.name",
  role: "icon.role",
  /** "<nodeId>/<icon>" of the parent, empty for a root ICON. */
  parent: "icon.parent",
  port: "icon.port",
} as const;

/** Seconds between SIGTERM and SIGKILL when an ICON is stopped. */
export const STOP_TIMEOUT_SEC = 5;

/** Docker container name: unique per node on a shared daemon. */
export function containerName(nodeId: string, icon: string): string {
  return `icon-${nodeId.slice(0, 12)}-${icon}`;
}

/** Environment every ICON gets; these names are reserved. */
export function iconEnv(rec: IconRecord, nodeId: string): Record<string, string> {
  return {
    ICON_NAME: rec.name,
    ICON_PORT: String(rec.port),
    ICON_ROLE: rec.role,
    ICON_NODE: nodeId,
    ICON_SOCKET: SOCKET_PATH,
    // Bun inside the container writes nothing outside /tmp (the root is read-only).
    TMPDIR: "/tmp",
  };
}

/** Options of the tmpfs mounts: /tmp and each of the image's VOLUMEs. */
export const TMPFS = "rw,nosuid,nodev,size=64m";

export interface SpecContext {
  nodeId: string;
  /** Host directory mounted at SOCKET_DIR (holds only the ICON's socket). */
  socketDir: string;
  /** What the container joins (IconNetwork.spec). */
  network: NetworkSpec;
}

export function containerSpec(rec: IconRecord, ctx: SpecContext): ContainerSpec {
  const network = ctx.network;
  return {
    name: containerName(ctx.nodeId, rec.name),
    image: rec.image,
    env: { ...rec.env, ...iconEnv(rec, ctx.nodeId) },
    labels: {
      [LABELS.node]: ctx.nodeId,
      [LABELS.name]: rec.name,
      [LABELS.role]: rec.role,
      [LABELS.parent]: rec.parent ? `${rec.parent.nodeId}/${rec.parent.icon}` : "",
      [LABELS.port]: String(rec.port),
    },
    user: rec.user,
    binds: [{ host: ctx.socketDir, container: SOCKET_DIR, readOnly: false }],
    tmpfs: Object.fromEntries(["/tmp", ...(rec.volumes ?? [])].map((path) => [path, TMPFS])),
    // A namespace of its own: no IPv6 in it, so nothing reaches past the node's IPv4 firewall, unless the
    // node's bridge has IPv6 behind its ip6tables rules too (own/firewall.ts).
    sysctls: (network.mode === "network" && !network.ipv6) || network.mode === "publish" ? { "net.ipv6.conf.all.disable_ipv6": "1" } : undefined,
    readOnlyRoot: true,
    capDrop: ["ALL"],
    securityOpt: ["no-new-privileges"],
    memoryBytes: rec.limits.memoryBytes,
    nanoCpus: Math.round(rec.limits.cpus * 1e9),
    pidsLimit: rec.limits.pids,
    init: true,
    network,
    stopTimeoutSec: STOP_TIMEOUT_SEC,
  };
}

/** Parses Docker-style sizes: 512k, 256m, 1g, or bytes. */
export function parseBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(s.trim());
  if (!m) return undefined;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  const n = Math.floor(Number(m[1]) * mult);
  return n > 0 ? n : undefined;
}
