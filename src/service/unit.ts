/**
 * The systemd unit that runs a node: `icon node start` of this binary with an absolute data dir, restarted
 * on failure, after the network and Docker. Hardening is what leaves Docker working, including an engine
 * the node will start itself with --data-root under its data dir (docs/operations.md has the reasoning).
 */
import { isAbsolute } from "node:path";
import { IconError } from "../errors.ts";

export const SYSTEM_UNIT_DIR = "/etc/systemd/system";

/** icon.service, or icon-NAME.service for one of several nodes on a machine. */
export function unitName(name?: string): string {
  if (name === undefined) return "icon.service";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
    throw new IconError("USAGE", `--name ${JSON.stringify(name)}: use 1-64 letters, digits, "-" or "_"`, "Pick a short name such as edge2; the unit becomes icon-edge2.service.");
  return `icon-${name}.service`;
}

/**
 * A path as it may stand in the unit without quoting: absolute, and free of what systemd reads
 * specially (whitespace and quotes split arguments, % starts a specifier, \ escapes).
 */
export function unitPath(path: string, what: string): string {
  if (!isAbsolute(path) || !/^[A-Za-z0-9._\/+@:,=-]+$/.test(path))
    throw new IconError("CONFIG", `${what} ${JSON.stringify(path)} cannot stand in a systemd unit: it must be absolute and use only letters, digits and . _ / + @ : , = -`,
      `Choose a ${what} path without spaces, quotes, % or backslashes.`);
  return path;
}

/** Top-level directories that must never become the node's writable data dir. */
const SYSTEM_DIRS = new Set(["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var"]);

export function isSystemDir(path: string): boolean {
  return SYSTEM_DIRS.has(path.replace(/\/+$/, "") || "/");
}

export interface UnitSpec {
  /** Absolute path of the icon binary. */
  exec: string;
  dataDir: string;
  configFile?: string;
  /** Version of the binary that wrote the unit, for the header comment. */
  version: string;
}

export function renderUnit(s: UnitSpec): string {
  const args = ["node", "start", "--data-dir", s.dataDir, ...(s.configFile ? ["--config", s.configFile] : []), "--log-format", "json"];
  return `# Written by \`icon service install\` (icon ${s.version}); remove it with \`icon service uninstall\`.
[Unit]
Description=icon edge node (data dir ${s.dataDir})
After=network-online.target docker.service
Wants=network-online.target docker.service
# A node that keeps failing stops after 5 starts in 5 minutes instead of looping forever.
StartLimitIntervalSec=300
StartLimitBurst=5

[Service]
Type=exec
ExecStart=${s.exec} ${args.join(" ")}
Restart=on-failure
RestartSec=5s
# SIGTERM goes to the node alone: it stops its ICONs and saves its state, then anything left is killed.
KillMode=mixed
TimeoutStopSec=120s
LimitNOFILE=65536
UMask=0077
# Hardening that keeps Docker working, also an engine the node starts itself under its data dir. Left out
# because they would break it: PrivateNetwork, PrivateDevices, RestrictNamespaces, ProtectKernelTunables,
# ProtectKernelModules, ProtectControlGroups, ProtectHostname, NoNewPrivileges, SystemCallFilter,
# RestrictAddressFamilies, RestrictSUIDSGID (children and their containers inherit them), and
# MemoryDenyWriteExecute (Bun's JIT writes code).
ProtectSystem=strict
# The data dir, and /run for Docker's sockets, network namespaces and the iptables lock.
ReadWritePaths=${s.dataDir} /run
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelLogs=yes

[Install]
WantedBy=multi-user.target
`;
}

/** The --data-dir of a unit this command wrote, or undefined. */
export function dataDirOf(unitText: string): string | undefined {
  return /^ExecStart=\S+ node start --data-dir (\S+)/m.exec(unitText)?.[1];
}
