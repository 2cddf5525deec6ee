/**
 * The ContainerEngine on the Docker engine API (20.10, API 1.41) through dockerode, over an engine's Unix
 * socket (the node's dockerSocket setting, or one of the testbed's engines). dockerode is imported only
 * here, and only when a command or the node needs Docker, so `icon --version` stays fast.
 */
import type { Readable } from "node:stream";
import type Dockerode from "dockerode";
import { DOCKER_FIX, fromDocker } from "./docker-errors.ts";
import type { ContainerEngine, ContainerInfo, ContainerSpec, ContainerStatus, ContainerSummary, EngineInfo, ImageInfo, LogLine } from "./container-engine.ts";
import { readTar } from "../util/tar.ts";
import { LogDemuxer } from "./log-demux.ts";

/** Docker API request body for one ContainerSpec. Exported for the unit test of the mapping. */
export function createBody(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  const net = spec.network;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  if (net.mode === "publish")
    for (const p of net.ports) {
      exposed[`${p.container}/tcp`] = {};
      bindings[`${p.container}/tcp`] = [{ HostIp: net.hostIp, HostPort: String(p.host) }];
    }
  return {
    name: spec.name,
    Image: spec.image,
    Hostname: spec.hostname,
    Cmd: spec.cmd,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    User: spec.user || undefined,
    ExposedPorts: net.mode === "publish" ? exposed : undefined,
    StopTimeout: spec.stopTimeoutSec,
    HostConfig: {
      Binds: spec.binds.map((b) => `${b.host}:${b.container}:${b.readOnly ? "ro" : "rw"}`),
      Tmpfs: spec.tmpfs,
      Sysctls: spec.sysctls,
      ReadonlyRootfs: spec.readOnlyRoot,
      CapDrop: spec.capDrop,
      SecurityOpt: spec.securityOpt,
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes, // no swap beyond the memory limit
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit,
      Init: spec.init,
      Privileged: false,
      IpcMode: "private",
      NetworkMode: net.mode === "container" ? `container:${net.container}` : net.mode === "publish" ? "bridge" : net.mode === "network" ? net.network : net.mode,
      PortBindings: net.mode === "publish" ? bindings : undefined,
      RestartPolicy: { Name: "no" }, // the node (or the testbed) decides when a container runs
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "2" } },
    },
  };
}

/** What Docker answered, or undefined when it answered one of `statuses` (404: no such thing, 304: already so). */
async function unless<T>(statuses: number[], p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (statuses.includes((e as { statusCode?: number }).statusCode ?? 0)) return undefined;
    throw e;
  }
}

export class DockerEngine implements ContainerEngine {
  constructor(
    private readonly docker: Dockerode,
    readonly socketPath: string,
    /** What to do when the engine does not answer at all (the testbed's own dockerds have their own fix). */
    private readonly unreachableFix = DOCKER_FIX,
  ) {}

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw fromDocker(e, this.socketPath, what, this.unreachableFix);
    }
  }

  ping(opts: { timeoutMs?: number } = {}): Promise<EngineInfo> {
    return this.call("Docker ping", async () => {
      // dockerode passes abortSignal on for every call, though its typings omit it for version().
      const version = this.docker.version.bind(this.docker) as (o: { abortSignal?: AbortSignal }) => Promise<Dockerode.DockerVersion>;
      const v = await version(opts.timeoutMs ? { abortSignal: AbortSignal.timeout(opts.timeoutMs) } : {});
      return { version: v.Version, apiVersion: v.ApiVersion };
    });
  }

  createContainer(spec: ContainerSpec): Promise<string> {
    return this.call(`create container ${spec.name}`, async () => (await this.docker.createContainer(createBody(spec))).id);
  }

  startContainer(id: string): Promise<void> {
    return this.call(`start container ${id.slice(0, 12)}`, async () => void (await unless([304], this.docker.getContainer(id).start())));
  }

  stopContainer(id: string, timeoutSec: number): Promise<void> {
    return this.call(`stop container ${id.slice(0, 12)}`, async () => void (await unless([304, 404], this.docker.getContainer(id).stop({ t: timeoutSec }))));
  }

  pauseContainer(id: string): Promise<void> {
    return this.call(`pause container ${id.slice(0, 12)}`, async () => {
      if ((await this.inspectContainer(id))?.status !== "paused") await this.docker.getContainer(id).pause();
    });
  }

  unpauseContainer(id: string): Promise<void> {
    // 409: it is not paused (already thawed, or stopped): nothing to do. No inspect first: this is a warm migration's path.
    return this.call(`unpause container ${id.slice(0, 12)}`, async () => void (await unless([409], this.docker.getContainer(id).unpause())));
  }

  renameContainer(id: string, name: string): Promise<void> {
    return this.call(`rename container ${id.slice(0, 12)}`, async () => void (await this.docker.getContainer(id).rename({ name })));
  }

  removeContainer(id: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.call(`remove container ${id.slice(0, 12)}`, async () => void (await unless([404], this.docker.getContainer(id).remove({ force: opts.force ?? false, v: true }))));
  }

  inspectContainer(id: string): Promise<ContainerInfo | undefined> {
    return this.call(`inspect container ${id.slice(0, 12)}`, async () => {
      const c = await unless([404], this.docker.getContainer(id).inspect());
      if (!c) return undefined;
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ""),
        image: c.Config.Image,
        status: c.State.Status as ContainerStatus,
        running: c.State.Running,
        exitCode: c.State.ExitCode,
        error: c.State.Error ?? "",
        oomKilled: c.State.OOMKilled,
        labels: c.Config.Labels ?? {},
        startedAt: c.State.StartedAt,
        finishedAt: c.State.FinishedAt,
        pid: c.State.Pid,
        addresses: Object.fromEntries(Object.entries(c.NetworkSettings?.Networks ?? {}).filter(([, n]) => n.IPAddress).map(([name, n]) => [name, n.IPAddress])),
        addresses6: Object.fromEntries(Object.entries(c.NetworkSettings?.Networks ?? {}).filter(([, n]) => n.GlobalIPv6Address).map(([name, n]) => [name, n.GlobalIPv6Address])),
        ...(c.HostConfig.NetworkMode?.startsWith("container:") ? { joinsNetworkOf: c.HostConfig.NetworkMode.slice("container:".length) } : {}),
      };
    });
  }

  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.call("list containers", async () => {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const list = await this.docker.listContainers({ all: true, filters });
      return list.map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? "").replace(/^\//, ""),
        status: c.State as ContainerStatus,
        labels: c.Labels ?? {},
        created: c.Created,
      }));
    });
  }

  waitExit(id: string, signal?: AbortSignal): Promise<number> {
    return this.call(`wait for container ${id.slice(0, 12)}`, async () => {
      const r = (await this.docker.getContainer(id).wait({ condition: "not-running", abortSignal: signal })) as { StatusCode: number };
      return r.StatusCode;
    });
  }

  async *logs(id: string, opts: { tail?: number; follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogLine> {
    const container = this.docker.getContainer(id);
    const base = { stdout: true, stderr: true, abortSignal: opts.signal, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) } as const;
    const demux = new LogDemuxer();
    if (!opts.follow) {
      const buf = await this.call(`logs of ${id.slice(0, 12)}`, () => container.logs({ ...base, follow: false }));
      yield* demux.push(new Uint8Array(buf as unknown as Buffer));
      yield* demux.end();
      return;
    }
    const stream = await this.call(`logs of ${id.slice(0, 12)}`, () => container.logs({ ...base, follow: true }));
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield* demux.push(new Uint8Array(chunk));
    } catch (e) {
      if (!opts.signal?.aborted) throw fromDocker(e, this.socketPath, `logs of ${id.slice(0, 12)}`, this.unreachableFix);
    } finally {
      (stream as { destroy?: () => void }).destroy?.();
    }
    yield* demux.end();
  }

  inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.call(`inspect image ${ref}`, async () => {
      const i = await unless([404], this.docker.getImage(ref).inspect());
      if (!i) return undefined;
      return {
        id: i.Id, repoTags: i.RepoTags ?? [], diffIds: i.RootFS?.Layers ?? [], size: i.Size, user: i.Config?.User ?? "", created: i.Created,
        labels: i.Config?.Labels ?? {}, volumes: Object.keys(i.Config?.Volumes ?? {}),
      };
    });
  }

  listImageIds(): Promise<string[]> {
    return this.call("list images", async () => (await this.docker.listImages({ all: false })).map((i) => i.Id));
  }

  importImage(rootfsTar: Readable, opts: { repo: string; tag: string; changes: string[] }): Promise<string> {
    return this.call(`import image ${opts.repo}:${opts.tag}`, async () => {
      const res = await this.docker.importImage(rootfsTar as never, { repo: opts.repo, tag: opts.tag, changes: opts.changes } as never);
      const lines = await this.readProgress(res as unknown as Readable);
      const last = lines.at(-1) as { status?: string } | undefined;
      const info = await this.inspectImage(`${opts.repo}:${opts.tag}`);
      if (!info) throw new Error(`import finished without an image (${last?.status ?? "no status"})`);
      return info.id;
    });
  }

  buildImage(contextTar: Readable, opts: { tags: string[]; buildArgs?: Record<string, string> }, onLine?: (line: string) => void): Promise<string> {
    return this.call(`build image ${opts.tags[0] ?? ""}`, async () => {
      const res = await this.docker.buildImage(contextTar as never, { t: opts.tags, buildargs: opts.buildArgs, rm: true, forcerm: true } as never);
      let id = "";
      await this.readProgress(res as unknown as Readable, (m) => {
        const rec = m as { stream?: string; aux?: { ID?: string } };
        if (rec.stream) onLine?.(rec.stream.replace(/\n$/, ""));
        if (rec.aux?.ID) id = rec.aux.ID;
      });
      return id;
    });
  }

  /** Reads Docker's JSON progress stream; an `error` record in it is a failure even with HTTP 200. */
  private async readProgress(stream: Readable, onRecord?: (m: unknown) => void): Promise<unknown[]> {
    const records = await new Promise<unknown[]>((resolve, reject) =>
      this.docker.modem.followProgress(stream, (err: unknown, out: unknown[]) => (err ? reject(err) : resolve(out)), onRecord),
    );
    const failed = records.find((r) => (r as { error?: string }).error) as { error: string } | undefined;
    if (failed) throw Object.assign(new Error(failed.error), { json: { message: failed.error }, statusCode: 500 });
    return records;
  }

  tagImage(ref: string, repo: string, tag: string): Promise<void> {
    return this.call(`tag image ${ref}`, async () => void (await this.docker.getImage(ref).tag({ repo, tag })));
  }

  removeImage(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.call(`remove image ${ref}`, async () => void (await unless([404], this.docker.getImage(ref).remove({ force: opts.force ?? false }))));
  }

  readImageFile(ref: string, path: string): Promise<Uint8Array | undefined> {
    return this.call(`read ${path} of image ${ref}`, async () => {
      // Created, never started: the archive endpoint reads the image's filesystem through the container.
      const c = await this.docker.createContainer({ Image: ref, Entrypoint: ["/nonexistent"], Cmd: [], HostConfig: { NetworkMode: "none" } });
      try {
        const stream = await unless([404], c.getArchive({ path }));
        if (!stream) return undefined;
        const chunks: Uint8Array[] = [];
        for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
        return readTar(Buffer.concat(chunks)).find((e) => e.type === "0")?.data;
      } finally {
        await c.remove({ force: true }).catch(() => {});
      }
    });
  }

  saveImages(refs: string[]): Promise<Readable> {
    // dockerode has GET /images/get?names=... but its typings do not declare it.
    const docker = this.docker as unknown as { getImages(opts: { names: string[] }): Promise<Readable> };
    return this.call(`save ${refs.join(", ")}`, () => docker.getImages({ names: refs }));
  }

  loadImage(archive: Readable): Promise<void> {
    return this.call("load image archive", async () => {
      const res = await this.docker.loadImage(archive as never, { quiet: true } as never);
      await this.readProgress(res as unknown as Readable);
    });
  }

  pullImage(ref: string): Promise<{ bytes: number }> {
    return this.call(`pull ${ref}`, async () => {
      // Each layer downloaded reports its compressed size as progressDetail.total (layers already held report none).
      const sizes = new Map<string, number>();
      await this.readProgress((await this.docker.pull(ref)) as Readable, (m) => {
        const r = m as { id?: string; status?: string; progressDetail?: { total?: number } };
        if (r.id && r.status === "Downloading" && r.progressDetail?.total) sizes.set(r.id, r.progressDetail.total);
      });
      return { bytes: [...sizes.values()].reduce((a, b) => a + b, 0) };
    });
  }

  pushImage(ref: string): Promise<void> {
    // An empty X-Registry-Auth: Docker refuses a push without the header, even to a registry without auth.
    return this.call(`push ${ref}`, async () => void (await this.readProgress((await this.docker.getImage(ref).push({ authconfig: {} } as never)) as unknown as Readable)));
  }
}

/** Opens the engine on a socket; dockerode is loaded here, on first use. */
export async function createDockerEngine(socketPath: string, opts: { unreachableFix?: string } = {}): Promise<DockerEngine> {
  const { default: Docker } = await import("dockerode");
  return new DockerEngine(new Docker({ socketPath }), socketPath, opts.unreachableFix);
}
