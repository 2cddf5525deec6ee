/**
 * The few Docker Engine API calls the testbed makes, on the main engine (the namespace-owning
 * containers of --docker) and on its per-host engines (--engines), over a Unix socket with Bun's fetch. Not the docker CLI: a fresh machine may have dockerd without the CLI, and
 * the compiled binary must work there. Not dockerode (which the yard uses): a dozen endpoints do not need
 * it, and fetch streams an image from one engine into another without holding it in memory.
 */
import { IconError, isIconError } from "../../errors.ts";

/** Where the main engine listens (what `docker` talks to by default). */
export const MAIN_DOCKER_SOCKET = "/var/run/docker.sock";

export interface ContainerRef {
  id: string;
  names: string[];
}

/** What the testbed asks of a container (POST /containers/create). */
export interface ContainerCreate {
  Image: string;
  Cmd?: string[];
  Hostname?: string;
  Labels?: Record<string, string>;
  HostConfig?: { NetworkMode?: string; RestartPolicy?: { Name: string } };
}

export interface ContainerState {
  id: string;
  running: boolean;
  pid: number;
  labels: Record<string, string>;
}

export class EngineApi {
  constructor(readonly socket: string) {}

  private unreachable(what: string, e: unknown): IconError {
    return new IconError("DOCKER", `${what}: the Docker engine at ${this.socket} does not answer (${(e as Error).message})`,
      this.socket === MAIN_DOCKER_SOCKET ? "Start the Docker engine (scripts/setup.sh starts dockerd)." : "Run `icon testbed up --engines` again: it restarts a dead engine.");
  }

  /** One request; a non-2xx answer becomes a DOCKER error quoting the engine's message. */
  async call(method: string, path: string, what: string, init: { body?: ReadableStream<Uint8Array> | string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Response> {
    let r: Response;
    try {
      r = await fetch(`http://docker${path}`, {
        method, unix: this.socket, ...(init.body !== undefined ? { body: init.body } : {}), headers: init.headers ?? {},
        signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
      } as RequestInit);
    } catch (e) {
      throw this.unreachable(what, e);
    }
    if (!r.ok) {
      const text = await r.text().catch(() => "");
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {}
      throw new IconError(r.status === 404 ? "NOT_FOUND" : "DOCKER", `${what}: ${message || `HTTP ${r.status}`} (engine ${this.socket})`,
        r.status === 404 ? "Check the name (docker -H unix://SOCKET images / ps -a)." : `See the engine's log beside ${this.socket}.`);
    }
    return r;
  }

  private async json<T>(method: string, path: string, what: string, body?: unknown): Promise<T> {
    const r = await this.call(method, path, what, body === undefined ? {} : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
    const text = await r.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The progress messages of a streamed answer (load, import) carry its errors: a 200 can still fail. */
  private async checkStream(r: Response, what: string): Promise<void> {
    for (const line of (await r.text()).split("\n").filter((l) => l.trim())) {
      let msg: { error?: string; errorDetail?: { message?: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      const err = msg.errorDetail?.message ?? msg.error;
      if (err) throw new IconError("DOCKER", `${what} (engine ${this.socket}): ${err}`, `See the engine's log beside ${this.socket}.`);
    }
  }

  /** True when the engine answers `_ping` within `timeoutMs`. */
  async ping(timeoutMs = 1000): Promise<boolean> {
    try {
      const r = await fetch("http://docker/_ping", { unix: this.socket, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
      return r.ok && (await r.text()) === "OK";
    } catch {
      return false;
    }
  }

  /** The image id ("sha256:...") of `ref`, or undefined when the engine does not hold it. */
  async imageId(ref: string): Promise<string | undefined> {
    try {
      const r = await this.call("GET", `/images/${encodeURIComponent(ref)}/json`, `inspecting image ${ref}`);
      return ((await r.json()) as { Id: string }).Id;
    } catch (e) {
      if (isIconError(e, "NOT_FOUND")) return undefined;
      throw e;
    }
  }

  /** Every container, running or not; `label` ("key=value") narrows the list. */
  async listContainers(label?: string): Promise<ContainerRef[]> {
    const filter = label ? `&filters=${encodeURIComponent(JSON.stringify({ label: [label] }))}` : "";
    const list = await this.json<{ Id: string; Names: string[] }[]>("GET", `/containers/json?all=1${filter}`, "listing containers");
    return list.map((c) => ({ id: c.Id, names: c.Names.map((n) => n.replace(/^\//, "")) }));
  }

  /** A container's state, or undefined when there is none by that name or id. */
  async inspectContainer(ref: string): Promise<ContainerState | undefined> {
    try {
      const c = await this.json<{ Id: string; State: { Running: boolean; Pid: number }; Config: { Labels: Record<string, string> | null } }>(
        "GET", `/containers/${encodeURIComponent(ref)}/json`, `inspecting container ${ref}`);
      return { id: c.Id, running: c.State.Running, pid: c.State.Pid, labels: c.Config.Labels ?? {} };
    } catch (e) {
      if (isIconError(e, "NOT_FOUND")) return undefined;
      throw e;
    }
  }

  /** Creates and starts a container; returns its id. */
  async runContainer(name: string, spec: ContainerCreate): Promise<string> {
    const { Id } = await this.json<{ Id: string }>("POST", `/containers/create?name=${encodeURIComponent(name)}`, `creating container ${name}`, spec);
    await this.call("POST", `/containers/${Id}/start`, `starting container ${name}`);
    return Id;
  }

  /** Kills and removes a container with its anonymous volumes. */
  async removeContainer(id: string): Promise<void> {
    await this.call("DELETE", `/containers/${id}?force=1&v=1`, `removing container ${id.slice(0, 12)}`, { timeoutMs: 60_000 });
  }

  /** `docker save`: the image as a tar stream. */
  async saveImage(ref: string): Promise<ReadableStream<Uint8Array>> {
    const r = await this.call("GET", `/images/get?names=${encodeURIComponent(ref)}`, `saving image ${ref}`, { timeoutMs: 600_000 });
    if (!r.body) throw new IconError("DOCKER", `saving image ${ref}: the engine sent no body`, "Try again.");
    return r.body;
  }

  /**
   * `docker load` of a tar stream. The engine answers 200 even when the load fails and says so in the
   * JSON messages of the body, so those are read and checked.
   */
  async loadImage(tar: ReadableStream<Uint8Array>): Promise<void> {
    const r = await this.call("POST", "/images/load?quiet=1", "loading an image", {
      body: tar, headers: { "Content-Type": "application/x-tar" }, timeoutMs: 600_000,
    });
    await this.checkStream(r, "loading an image");
  }

  /** `docker import`: a root filesystem tar becomes image `repoTag`, with Dockerfile-style `changes` (CMD, LABEL). */
  async importImage(tar: ReadableStream<Uint8Array>, repoTag: string, changes: string[]): Promise<void> {
    const at = repoTag.lastIndexOf(":");
    const [repo, tag] = at > repoTag.lastIndexOf("/") ? [repoTag.slice(0, at), repoTag.slice(at + 1)] : [repoTag, "latest"];
    const q = new URLSearchParams({ fromSrc: "-", repo, tag });
    for (const c of changes) q.append("changes", c);
    const r = await this.call("POST", `/images/create?${q}`, `importing ${repoTag}`, {
      body: tar, headers: { "Content-Type": "application/x-tar" }, timeoutMs: 600_000,
    });
    await this.checkStream(r, `importing ${repoTag}`);
  }
}
