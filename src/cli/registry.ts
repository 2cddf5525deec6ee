/**
 * Every subcommand, with its one-line summary (the only one: `icon --help` and the command's own --help
 * show it), and a loader so that only the command being run is imported (keeps `icon --version` fast).
 * Hidden commands are internal (started by the binary itself).
 */
import type { CommandSpec } from "./command.ts";

export interface Entry {
  name: string;
  summary: string;
  hidden?: boolean;
  load: () => Promise<{ command: CommandSpec }>;
}

export const REGISTRY: Entry[] = [
  { name: "version", summary: "Print the version of this binary", load: () => import("./commands/version.ts") },
  { name: "node start", summary: "Run a node in the foreground until SIGINT or SIGTERM", load: () => import("./commands/node-start.ts") },
  { name: "node status", summary: "Show the running node's identity, addresses and state", load: () => import("./commands/node-status.ts") },
  { name: "engine rm", summary: "Remove a stopped node's own Docker engine and everything it holds", load: () => import("./commands/engine-rm.ts") },
  { name: "dht put", summary: "Store a value under a key in the DHT", load: () => import("./commands/dht-put.ts") },
  { name: "dht get", summary: "Look up the value under a key in the DHT", load: () => import("./commands/dht-get.ts") },
  { name: "dht peers", summary: "List the DHT nodes in this node's routing table", load: () => import("./commands/dht-peers.ts") },
  { name: "bench dht", summary: "Simulate N DHT nodes with loss and churn and measure lookups", load: () => import("./commands/bench-dht.ts") },
  { name: "bench dht-live", summary: "Time puts and gets across N real node processes on loopback with loss (root)", load: () => import("./commands/bench-dht-live.ts") },
  { name: "bench dht-micro", summary: "Micro-benchmarks of DHT codec and routing table (tinybench)", load: () => import("./commands/bench-dht-micro.ts") },
  { name: "trace", summary: "Trace the route to an IPv4 or IPv6 address (parallel UDP probes, no root)", load: () => import("./commands/trace.ts") },
  { name: "topology", summary: "Show the node's map of routers, with its RTT and hops to each", load: () => import("./commands/topology.ts") },
  { name: "topology flush", summary: "Forget the cached client traces and router lookups (the next client is a first contact)", load: () => import("./commands/topology-flush.ts") },
  { name: "closest", summary: "Ask the running node which nodes are closest to a client", load: () => import("./commands/closest.ts") },
  { name: "bench new-edge", summary: "Measure how soon a new edge is offered with a sound estimate on the testbed (root)", load: () => import("./commands/bench-new-edge.ts") },
  { name: "bench trace", summary: "Measure trace time against path RTT on the thesis testbed (root)", load: () => import("./commands/bench-trace.ts") },
  { name: "bench closest", summary: "Measure closest() latency (cold, warm) and accuracy on the testbed (root)", load: () => import("./commands/bench-closest.ts") },
  { name: "testbed up", summary: "Bring up an emulated routed Internet in network namespaces (root)", load: () => import("./commands/testbed-up.ts") },
  { name: "testbed down", summary: "Remove a testbed and everything it made (root)", load: () => import("./commands/testbed-down.ts") },
  { name: "testbed status", summary: "Show a testbed's hosts, routers, links and delay process", load: () => import("./commands/testbed-status.ts") },
  { name: "testbed exec", summary: "Run a command on a testbed host or router (in its namespace)", load: () => import("./commands/testbed-exec.ts") },
  { name: "testbed ping", summary: "Measure the RTT matrix between a testbed's hosts beside the targets", load: () => import("./commands/testbed-ping.ts") },
  { name: "testbed copy-image", summary: "Copy an image into a host's own Docker engine (--engines)", load: () => import("./commands/testbed-copy-image.ts") },
  { name: "bench testbed", summary: "Measure the testbed's delay precision and the delay process's CPU (root)", load: () => import("./commands/bench-testbed.ts") },
  { name: "bench testbed-engines", summary: "Measure what `testbed up --engines` costs against --docker (root, Docker)", load: () => import("./commands/bench-testbed-engines.ts") },
  { name: "testbed delayd", summary: "The testbed's delay process (started by `testbed up`)", hidden: true, load: () => import("./commands/testbed-delayd.ts") },
  { name: "run", summary: "Run an ICON from a local image and wait until it is RUNNING", load: () => import("./commands/run.ts") },
  { name: "ps", summary: "List the node's ICONs", load: () => import("./commands/ps.ts") },
  { name: "stop", summary: "Stop an ICON, keeping its container for a fast (hot) start", load: () => import("./commands/stop.ts") },
  { name: "pause", summary: "Freeze a running ICON, keeping its memory for a thaw in tens of ms (icon start)", load: () => import("./commands/pause.ts") },
  { name: "start", summary: "Start a stopped or failed ICON again and wait until it is RUNNING", load: () => import("./commands/start.ts") },
  { name: "rm", summary: "Remove an ICON: its container, socket and record", load: () => import("./commands/rm.ts") },
  { name: "logs", summary: "Print an ICON's output (stdout and stderr)", load: () => import("./commands/logs.ts") },
  { name: "runtime build", summary: "Build the icon-runtime base image locally from this binary", load: () => import("./commands/runtime-build.ts") },
  { name: "bench yard", summary: "Measure ICON start times against bare Docker (cold run and hot start)", load: () => import("./commands/bench-yard.ts") },
  { name: "bench peer", summary: "Measure the encrypted peer channel on loopback: new connection, bulk throughput", load: () => import("./commands/bench-peer.ts") },
  { name: "bench images", summary: "Measure zstd levels and shipping one large layer between two nodes (Docker; --testbed: root)", load: () => import("./commands/bench-images.ts") },
  { name: "bench images-peer", summary: "One side of `bench images` (started by it)", hidden: true, load: () => import("./commands/bench-images-peer.ts") },
  { name: "bench path-rate", summary: "One side of the path rate measurement of `bench migrate` (started by it)", hidden: true, load: () => import("./commands/bench-path-rate.ts") },
  { name: "bench migrate", summary: "Measure migration time per case like thesis chapter 4 (root, Docker)", load: () => import("./commands/bench-migrate.ts") },
  { name: "bench hostile", summary: "Attack two nodes from an attacker host while clients migrate, and measure both (root, Docker)", load: () => import("./commands/bench-hostile.ts") },
  { name: "bench hostile-attacker", summary: "The attacker host of `bench hostile` (started by it)", hidden: true, load: () => import("./commands/bench-hostile-attacker.ts") },
  { name: "demo", summary: "Migrate a client to the edge on an emulated Internet (root, Docker)", load: () => import("./commands/demo.ts") },
  { name: "demo client", summary: "The sample migration client (the demo and the benchmark run it on UD)", hidden: true, load: () => import("./commands/demo-client.ts") },
  { name: "dashboard", summary: "Print the URL of the node's web dashboard (it opens nothing)", load: () => import("./commands/dashboard.ts") },
  { name: "peers", summary: "List the node's open peer connections (one per peer node)", load: () => import("./commands/peers.ts") },
  { name: "admission list", summary: "Show whose ICONs this node runs as replicas: the mode and the owner keys", load: () => import("./commands/admission-list.ts") },
  { name: "admission allow", summary: "Admit an owner's ICONs as replicas here (add its key to the list)", load: () => import("./commands/admission-allow.ts") },
  { name: "admission deny", summary: "Take an owner's key off the list", load: () => import("./commands/admission-deny.ts") },
  { name: "admission mode", summary: "Run replicas of any owner (open) or only of listed owners (allowlist)", load: () => import("./commands/admission-mode.ts") },
  { name: "service install", summary: "Run this node as a systemd service: write, verify, enable and start its unit", load: () => import("./commands/service-install.ts") },
  { name: "service uninstall", summary: "Stop and disable the node's systemd service and remove its unit (the data dir stays)", load: () => import("./commands/service-uninstall.ts") },
  { name: "service status", summary: "Show whether the node's service is installed, enabled and active, and whether the node answers", load: () => import("./commands/service-status.ts") },
  { name: "verify-release", summary: "Check a release's signature and the hash of every file in it", load: () => import("./commands/verify-release.ts") },
];

/** Sections of `icon --help`, in order: a heading and the first words of the commands under it. */
export const GROUPS: [string, string[]][] = [
  ["node", ["node", "engine", "peers", "admission", "dashboard", "version"]],
  ["operations", ["service", "verify-release"]],
  ["DHT", ["dht"]],
  ["topology", ["trace", "topology", "closest"]],
  ["ICONs", ["run", "ps", "stop", "pause", "start", "rm", "logs", "runtime"]],
  ["emulated Internet", ["testbed", "demo"]],
  ["benchmarks", ["bench"]],
];
