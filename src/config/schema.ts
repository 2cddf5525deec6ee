/**
 * Every setting of a node, in one table: its type, default, environment variable and flag.
 * Resolution order (Nomad's): defaults, then the config file, then ICON_* environment, then flags.
 * Add a setting here and it is documented, resolvable and validated everywhere at once.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { DEFAULT_MAX_TTL, MAX_TTL_LIMIT } from "../topology/trace/types.ts";
import { isIPv4, parseCidr } from "../util/ipv4.ts";
import { familyOf } from "../util/ipv6.ts";
import { quotaProblem } from "./quota.ts";
import { parseBytes } from "../yard/container-spec.ts";

export type FieldType = "string" | "int" | "number" | "bool" | "list" | "enum";

export interface FieldSpec {
  type: FieldType;
  default: unknown;
  doc: string;
  /** Long flag without the dashes; omitted when the setting has no flag. */
  flag?: string;
  /** For enums. */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Extra check; returns a message when the value is wrong. */
  check?: (v: never) => string | undefined;
}

const port = { min: 0, max: 65535 } as const;
const size = (v: string) => (parseBytes(v) ? undefined : "must be a size such as 512m or 2g");
/** A size, or 0 for no limit. */
const sizeOrZero = (v: string) => (v.trim() === "0" ? undefined : size(v));

function isHostPort(s: string): boolean {
  const i = s.lastIndexOf(":");
  if (i <= 0) return false;
  const p = Number(s.slice(i + 1));
  return Number.isInteger(p) && p > 0 && p < 65536;
}

/** IPv4:PORT, port 0 meaning a free one. */
function isListenAddress(s: string): boolean {
  const i = s.lastIndexOf(":");
  const p = Number(s.slice(i + 1));
  return i > 0 && isIPv4(s.slice(0, i)) && s.slice(i + 1) !== "" && Number.isInteger(p) && p >= 0 && p < 65536;
}

function badHostPort(list: string[]): string | undefined {
  const bad = list.find((s) => !isHostPort(s));
  return bad === undefined ? undefined : `"${bad}" is not HOST:PORT`;
}


/**
 * Quotas for a home node: replicas get the node's own iconMemory/iconCpus (256m, 1 CPU by default), so
 * one owner fills at most 8 such replicas and one requesting node 4; all peers together 32.
 */
export const QUOTA_DEFAULTS = {
  perOwner: ["replicas=8", "memory=2g", "cpus=8", "disk=4g"],
  perPeer: ["replicas=4", "memory=1g", "cpus=4", "disk=2g"],
  total: ["replicas=32", "memory=8g", "cpus=32", "disk=16g"],
} as const;

const quota = (defaults: readonly string[], whose: string) => ({
  type: "list",
  default: [...defaults],
  doc: `Most that ${whose} may take on this node, as replicas=N,memory=SIZE,cpus=N,disk=SIZE (sums of the replicas' limits; disk counts each image once plus capped logs); a dimension left out keeps its default (${defaults.join(",")}). Beyond it a replicate is refused with QUOTA.`,
  check: (v: string[]) => quotaProblem(v, defaults),
}) as const;

export const SCHEMA = {
  dataDir: { type: "string", default: join(homedir(), ".icon"), flag: "data-dir", doc: "Directory for the node's identity, state and local API socket." },
  listen: { type: "string", default: "0.0.0.0", flag: "listen", doc: "IPv4 address the DHT and peer sockets bind to.", check: (v: string) => (isIPv4(v) ? undefined : "must be an IPv4 address") },
  listen6: { type: "string", default: "", flag: "listen6", doc: "IPv6 address the DHT and peer sockets also bind to, on the same ports. Empty: every IPv6 address when listen is 0.0.0.0 (one dual-stack socket), none otherwise; off: no IPv6.", check: (v: string) => (v === "" || v === "off" || familyOf(v) === 6 ? undefined : "must be an IPv6 address, off, or empty") },
  advertise: { type: "string", default: "", flag: "advertise", doc: "Address announced to other nodes; empty means the listen address, or the address peers report when listening on 0.0.0.0.", check: (v: string) => (v === "" || isIPv4(v) ? undefined : "must be an IPv4 address or empty") },
  dhtPort: { type: "int", default: 4100, flag: "dht-port", doc: "UDP port of the DHT (0 picks a free one; a restarted node first tries the port it had).", ...port },
  peerPort: { type: "int", default: 4101, flag: "peer-port", doc: "TCP port of the peer protocol between nodes (0 picks a free one).", ...port },
  portMapping: { type: "enum", default: "auto", flag: "port-mapping", values: ["auto", "static", "off"], doc: "How a node behind a home router opens its DHT, peer and ICON ports: auto asks the router (UPnP IGD, then NAT-PMP/PCP) and, for its IPv6 address, the router's IPv6 firewall (UPnP IGDv2 pinholes, else PCP MAP), renews the mappings and pinholes and removes them at stop (a change to the router: see docs/home-networks.md); static: the operator forwarded dhtPort, peerPort and portRange by hand, same ports outside (set advertise, or peers tell the address); off: no mapping. Either way peers dial back before the node announces itself." },
  reachabilityQuorum: { type: "int", default: 2, min: 1, max: 16, doc: "Distinct /24 networks whose dial-backs must agree before the node trusts its reachability (public, mapped or unreachable). 1 only for networks of two nodes, such as the testbed's thesis network." },
  bootstrap: { type: "list", default: [], flag: "bootstrap", doc: "HOST:PORT of a DHT node to join through; repeat the flag or separate with commas.", check: (v: string[]) => badHostPort(v) },
  logLevel: { type: "enum", default: "info", flag: "log-level", values: ["debug", "info", "warn", "error"], doc: "Least severe log level printed." },
  logFormat: { type: "enum", default: "human", flag: "log-format", values: ["human", "json"], doc: "Log lines for people, or JSON lines for machines." },
  dashboardListen: { type: "string", default: "", flag: "dashboard", doc: "IPv4:PORT the read-only web dashboard (and /metrics) listens on, e.g. 127.0.0.1:4180; empty: off. Any address outside 127.0.0.0/8 needs the token the node prints at start.", check: (v: string) => (v === "" || isListenAddress(v) ? undefined : "must be IPv4:PORT, e.g. 127.0.0.1:4180, or empty") },
  migrationHistory: { type: "int", default: 50, min: 1, max: 10_000, doc: "Migrations this node keeps in memory for the dashboard and GET /v1/migrations (the newest)." },

  routerMask: { type: "int", default: 29, min: 8, max: 32, doc: "Prefix length that turns a router address into a routerId (thesis 3.1.1: /29)." },
  clientPrefix: { type: "int", default: 24, min: 8, max: 32, doc: "Prefix length under which client traces are cached." },
  traceCacheSec: { type: "int", default: 600, min: 0, doc: "How long a cached client trace stays valid." },
  traceConcurrency: { type: "int", default: 4, min: 1, max: 64, doc: "Traces of harvested addresses running at once." },
  maxTtl: { type: "int", default: DEFAULT_MAX_TTL, min: 1, max: MAX_TTL_LIMIT, doc: "Largest TTL a trace probes." },
  topology: { type: "bool", default: true, doc: "Trace the network around the node and announce it in the DHT, so ICONs can be sent here. false: the node only serves the DHT (stores and answers for other nodes) and is never offered as a replica target: a DHT helper." },
  synPrefetch: { type: "bool", default: true, doc: "Start finding the nodes closest to a client at its TCP SYN to an ICON's port (kernel conntrack events; needs root and nf_conntrack_netlink), one round trip before the ICON asks; at most 1 per second per /24, 10 in all and traceConcurrency at once (a spoofed SYN draws a trace of its source). Where the events are unavailable the node logs why once and starts when the ICON asks. false: only when the ICON asks." },
  announceSec: { type: "int", default: 300, min: 5, doc: "Period at which the node refreshes its router announcements." },
  price: { type: "number", default: 0, min: 0, doc: "Price this node announces per replica-hour (0: free)." },

  engine: { type: "enum", default: "own", flag: "engine", values: ["own", "external"], doc: "own: the node runs a Docker engine of its own (its own data root, socket, bridge and firewall, user namespaces on) that nothing else uses, started and stopped with the node (needs root); external: ICONs run on the engine at dockerSocket, which must then be dedicated to the node (weaker: no user namespace, no firewall of the node's own)." },
  dockerSocket: { type: "string", default: "/var/run/docker.sock", doc: "Path of the operator's own Docker engine: where `icon runtime build` puts icon-runtime:<version> and `icon run IMAGE` copies images from (and, with engine external, where ICONs run)." },
  iconSubnet: { type: "string", default: "auto", doc: "IPv4 /16-/28 of the bridge ICONs sit on with engine own; auto picks a free /24 in 10.201.0.0/16 that no route or address of this host overlaps.", check: (v: string) => (v === "auto" || parseCidr(v) ? undefined : "must be auto or an IPv4 CIDR such as 10.201.7.0/24 (prefix 16-28)") },
  iconEgress: { type: "enum", default: "internet", values: ["internet", "none"], doc: "What ICONs may connect to with engine own: internet (public addresses only: never this host, private, link-local, CGNAT or multicast ranges, nor another ICON), or none (only answers to connections made to them)." },
  portRange: { type: "string", default: "20000-20999", doc: "Ports the node hands out to replica ICONs, FIRST-LAST.", check: (v: string) => (/^\d+-\d+$/.test(v) && Number(v.split("-")[0]) <= Number(v.split("-")[1]) ? undefined : "must be FIRST-LAST, e.g. 20000-20999") },
  networkContainer: { type: "string", default: "", doc: "With engine external only: run ICONs inside this container's network namespace (the testbed's --docker mode); empty publishes ports on the engine's default bridge." },
  iconMemory: { type: "string", default: "256m", doc: "Default memory limit of an ICON container." },
  iconCpus: { type: "number", default: 1, min: 0.01, doc: "Default CPU limit of an ICON container." },
  iconPids: { type: "int", default: 256, min: 16, doc: "Default PIDs limit of an ICON container." },
  iconReadySec: { type: "int", default: 60, min: 1, doc: "Seconds an ICON has from container start to icon.ready() before it is marked FAILED and stopped." },
  prefetchAfter: { type: "int", default: 3, min: 0, doc: "Offer an ICON's image to a node after it was a candidate this many times (0: never)." },

  admission: { type: "enum", default: "open", values: ["open", "allowlist"], doc: "Whose ICONs this node runs as replicas: open (any owner's) or allowlist (only owners listed with `icon admission allow`, and this node's own). `icon admission mode` overrides it, in <data-dir>/admission.json." },
  quotaPerOwner: quota(QUOTA_DEFAULTS.perOwner, "the replicas of one owner (the key that ran their root ICON)"),
  quotaPerPeer: quota(QUOTA_DEFAULTS.perPeer, "the replicas one node asked for"),
  quotaTotal: quota(QUOTA_DEFAULTS.total, "all replicas together"),
  maxImageBytes: { type: "string", default: "2g", check: size, doc: "Largest image (its layers' uncompressed bytes) this node accepts from a peer; a larger declaration is refused before any byte is taken." },
  layerCacheBytes: { type: "string", default: "4g", check: size, doc: "Disk kept for compressed layers under <data-dir>/layers (what this node serves and received); least recently used go first." },
  imageBytesInPerHour: { type: "string", default: "4g", check: sizeOrZero, doc: "Compressed image bytes this node accepts from any one peer per hour (0: no limit); beyond it a fetch fails with QUOTA." },
  imageBytesOutPerHour: { type: "string", default: "8g", check: sizeOrZero, doc: "Compressed image bytes this node serves to any one peer per hour (0: no limit); beyond it the peer's request fails with QUOTA." },
  registry: { type: "string", default: "", check: (v: string) => (v === "" || isHostPort(v) ? undefined : "must be HOST:PORT or empty"), doc: "HOST:PORT of a plain-HTTP Docker registry (v2, no auth) that replicas' images are pulled from instead of from the node that asks: how the thesis's IPO distributed images, kept to compare with it (`icon bench migrate --case cold-registry`); the node's own engine trusts it as an insecure registry. Empty (the default): images come from peers, no registry is assumed." },
  imageGcSec: { type: "int", default: 3600, min: 60, doc: "An image received from a peer that no ICON on this node has used for this long is removed from the node's engine." },
} as const satisfies Record<string, FieldSpec>;

export type ConfigKey = keyof typeof SCHEMA;

type ValueOf<F extends FieldSpec> = F["type"] extends "int" | "number"
  ? number
  : F["type"] extends "bool"
    ? boolean
    : F["type"] extends "list"
      ? string[]
      : F extends { values: readonly (infer V)[] }
        ? V
        : string;

export type Config = { -readonly [K in ConfigKey]: ValueOf<(typeof SCHEMA)[K]> };

/** ICON_DATA_DIR for dataDir, ICON_DHT_PORT for dhtPort. */
export function envName(key: string): string {
  return "ICON_" + key.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
}
