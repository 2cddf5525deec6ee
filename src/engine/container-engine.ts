/**
 * The container engine seam: everything the product asks of Docker, in its own terms. It lives in its
 * own folder, not in the yard, because several parts use it: the yard (ICON containers), image
 * distribution (save/load of layers), the node's own engine and the testbed
 * (namespace-owning containers, the per-host dockerds, copying images between them). docker-engine.ts implements it with dockerode over an
 * engine's Unix socket, the one Docker client of the product; memory-engine.ts is the in-memory double
 * tests use. Errors are IconErrors with a fix (see docker-errors.ts).
 */
import type { Readable } from "node:stream";

export interface Bind {
  host: string;
  container: string;
  readOnly: boolean;
}

export type NetworkSpec =
  /** Publish container ports on the host (DNAT via Docker's proxy), at pinned host ports. */
  | { mode: "publish"; hostIp: string; ports: { host: number; container: number }[] }
  /** Join another container's network namespace (the testbed's --docker mode); no publishing there. */
  | { mode: "container"; container: string }
  /** A network of the engine's by name: the node's own engine's "bridge", on the bridge the node made, behind its firewall. */
  | { mode: "network"; network: string; /** ICONs have IPv6 there (the bridge's /64, behind the node's ip6tables). */ ipv6?: true }
  /** The engine's own network namespace: a per-IEP engine started inside the IEP's namespace (testbed --engines). */
  | { mode: "host" }
  | { mode: "none" };

/** One container to create, hardening included (container-spec.ts builds it). */
export interface ContainerSpec {
  name: string;
  image: string;
  /** The container's hostname (the testbed names a host's namespace container after the host). */
  hostname?: string;
  /** Replaces the image's CMD when set. */
  cmd?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** "uid:gid"; empty keeps the image's USER. */
  user: string;
  binds: Bind[];
  /** Mount point → tmpfs options. */
  tmpfs: Record<string, string>;
  /** Namespaced kernel settings of the container (net.ipv6.conf.all.disable_ipv6...). */
  sysctls?: Record<string, string>;
  readOnlyRoot: boolean;
  capDrop: string[];
  securityOpt: string[];
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  /** A tiny init as PID 1 that forwards signals and reaps zombies. */
  init: boolean;
  network: NetworkSpec;
  stopTimeoutSec: number;
}

export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export interface ContainerInfo {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  image: string;
  status: ContainerStatus;
  running: boolean;
  exitCode: number;
  /** Docker's own explanation when start failed or the container died (e.g. OOM). */
  error: string;
  oomKilled: boolean;
  labels: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  /** Its main process on the host (0 when not running): the testbed attaches its network namespace. */
  pid: number;
  /** Its IPv4 address on each network it is attached to (empty when not running). */
  addresses: Record<string, string>;
  /** Global (here: unique local) IPv6 address per network, where the network has IPv6. */
  addresses6?: Record<string, string>;
  /** The container whose network namespace it joins (network mode `container:<it>`), running or not. */
  joinsNetworkOf?: string;
}

export interface ContainerSummary {
  id: string;
  name: string;
  status: ContainerStatus;
  labels: Record<string, string>;
  /** Unix seconds. */
  created: number;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  /** Uncompressed layer digests, base first (RootFS.Layers): what image distribution compares. */
  diffIds: string[];
  size: number;
  user: string;
  created: string;
  /** The image's labels (an ICON's policy can come from `icon.policy.*` labels). */
  labels: Record<string, string>;
  /** Its VOLUME paths (Docker would give each an anonymous volume on the host's disk). */
  volumes: string[];
}


export interface LogLine {
  stream: "stdout" | "stderr";
  line: string;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
}

export interface ContainerEngine {
  /** Checks the engine answers (within timeoutMs when given); throws a DOCKER error naming the socket and the fix otherwise. */
  ping(opts?: { timeoutMs?: number }): Promise<EngineInfo>;

  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after timeoutSec. Stopping a stopped container is not an error. */
  stopContainer(id: string, timeoutSec: number): Promise<void>;
  /** Freezes a running container's processes (cgroup freezer): they keep their memory and sockets. Pausing a paused one is not an error. */
  pauseContainer(id: string): Promise<void>;
  /** Thaws a paused container. Unpausing one that is not paused is not an error. */
  unpauseContainer(id: string): Promise<void>;
  /** Gives a container (running or not) another name. */
  renameContainer(id: string, name: string): Promise<void>;
  /** Removing a missing container is not an error. */
  removeContainer(id: string, opts?: { force?: boolean }): Promise<void>;
  /** undefined when there is no such container. */
  inspectContainer(id: string): Promise<ContainerInfo | undefined>;
  /** All containers (running or not) carrying every one of these labels ({} lists every container). */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Resolves with the exit code once the container is not running (at once when it has already exited). */
  waitExit(id: string, signal?: AbortSignal): Promise<number>;
  /** Log lines, stdout and stderr demultiplexed; with follow, until the container stops or signal aborts. */
  logs(id: string, opts: { tail?: number; follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogLine>;

  /** undefined when the daemon does not hold the image. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Ids of every image the daemon holds (image distribution compares their layer chains). */
  listImageIds(): Promise<string[]>;
  /** `docker import`: one layer from a root filesystem tar, with Dockerfile-style changes (ENV, ENTRYPOINT...). */
  importImage(rootfsTar: Readable, opts: { repo: string; tag: string; changes: string[] }): Promise<string>;
  /** `docker build` from a context tar; returns the image id. */
  buildImage(contextTar: Readable, opts: { tags: string[]; buildArgs?: Record<string, string> }, onLine?: (line: string) => void): Promise<string>;
  tagImage(ref: string, repo: string, tag: string): Promise<void>;
  removeImage(ref: string, opts?: { force?: boolean }): Promise<void>;
  /** One file of an image's filesystem (e.g. /etc/passwd, to know which uid a USER name is), undefined when absent. */
  readImageFile(ref: string, path: string): Promise<Uint8Array | undefined>;

  // Image distribution without a registry (DESIGN.md; the peer protocol builds on these):
  /** `docker save` of the given images (legacy layout: manifest.json, config, one folder per layer), streamed. */
  saveImages(refs: string[]): Promise<Readable>;
  /** `docker load`, streamed; a partial archive loads when the daemon holds the missing layers' chain. */
  loadImage(archive: Readable): Promise<void>;

  // A registry, for the comparison with the thesis's IPO (config `registry`) and the lab that fills it:
  /** `docker pull REGISTRY/REPO:TAG`; resolves with the compressed bytes of the layers that were downloaded. */
  pullImage(ref: string): Promise<{ bytes: number }>;
  /** `docker push REGISTRY/REPO:TAG` of an image tagged so (no credentials: a registry without auth). */
  pushImage(ref: string): Promise<void>;
}

/** True when the engine answers within timeoutMs (a dockerd that is starting, or gone, does not). */
export async function engineAnswers(engine: ContainerEngine, timeoutMs: number): Promise<boolean> {
  return engine.ping({ timeoutMs }).then(() => true, () => false);
}
