/**
 * An in-memory ContainerEngine: the container-engine double tests use, as the DHT's tests use its
 * memory hub. Containers have states, exit codes, labels and logs; images have ids, tags and layer
 * chains; save and load speak the legacy `docker save` layout (memory-images.ts), so image
 * distribution runs over it unchanged, a partial archive loads only onto a held chain. A started
 * container runs the Program a test registered for its image: the stand-in for the image's process
 * (an icon-runtime client on the bind-mounted socket, a crash, silence). Errors are made by the same
 * mapping as Docker's (fromDocker), so callers see the codes they would see on Docker. Never used by
 * the product.
 */
import { Readable } from "node:stream";
import { IconError } from "../errors.ts";
import { realClock, type Clock } from "../util/clock.ts";
import type { ContainerEngine, ContainerInfo, ContainerSpec, ContainerStatus, ContainerSummary, EngineInfo, ImageInfo, LogLine } from "./container-engine.ts";
import { fromDocker } from "./docker-errors.ts";
import { fullTag, MemoryImages, readAll, type AddImageOptions } from "./memory-images.ts";

/** What a running container's program sees and can do. */
export interface ContainerProcess {
  readonly id: string;
  readonly spec: ContainerSpec;
  /** Aborted when the container is stopped or removed; a program that exits then chooses its code. */
  readonly signal: AbortSignal;
  log(line: string, stream?: LogLine["stream"]): void;
  /** The process ends (a crash, a clean exit, or killed for memory with oomKilled). */
  exit(code: number, opts?: { oomKilled?: boolean; error?: string }): void;
  /** Where a container path is bind-mounted from on the host (e.g. the ICON's socket directory). */
  hostPath(containerPath: string): string | undefined;
}

/** A container's process. Returning does not end it: like a server, it runs until exit() or a stop. */
export type Program = (p: ContainerProcess) => void | Promise<void>;

interface Container {
  id: string;
  spec: ContainerSpec;
  imageId: string;
  status: ContainerStatus;
  exitCode: number;
  oomKilled: boolean;
  error: string;
  pid: number;
  created: number;
  startedAt: string;
  finishedAt: string;
  logs: LogLine[];
  /** Called on every log line and on exit (logs follow, waitExit). */
  watchers: Set<() => void>;
  run?: AbortController;
}

const ZERO_TIME = "0001-01-01T00:00:00Z";
const up = (c: Container) => c.status === "running" || c.status === "paused";
const hex64 = () => [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");

export class MemoryEngine implements ContainerEngine {
  private readonly containers = new Map<string, Container>();
  private readonly images: MemoryImages;
  private readonly programs = new Map<string, Program>();
  private readonly failures = new Map<keyof ContainerEngine, Error[]>();
  private nextPid = 1000;
  /** False: every call fails as on a stopped daemon. */
  reachable = true;

  constructor(
    /** Named in errors, as a socket path would be. */
    readonly name = "memory-engine",
    private readonly clock: Clock = realClock,
    /** Images pushed, by full tag: share one between engines to pull on one what another pushed. */
    private readonly registry?: Map<string, Uint8Array>,
  ) {
    this.images = new MemoryImages((status, message, what) => this.refuse(status, message, what), () => clock.now());
  }

  // ---- test controls ----

  /** The program containers of this image (by tag or id) run when started. */
  program(ref: string, program: Program): void {
    this.programs.set(ref.startsWith("sha256:") ? ref : fullTag(ref), program);
  }

  /** The next call of `op` fails with `error` (one failure per call to this). */
  failNext(op: keyof ContainerEngine, error: Error): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), error]);
  }

  /**
   * Adds an image as `docker build` would leave it: each layer a tar of one file, so its diffId is
   * the digest of that tar; equal layers give equal diffIds on every engine, as real builds do.
   */
  async addImage(tag: string, opts: AddImageOptions = {}): Promise<ImageInfo> {
    return this.images.info(await this.images.add(tag, opts));
  }

  /** Every container, for assertions. */
  all(): ContainerInfo[] {
    return [...this.containers.values()].map((c) => this.info(c));
  }

  /** What a container was created with, for assertions. */
  specOf(id: string): ContainerSpec {
    return structuredClone(this.container(id, "spec").spec);
  }

  // ---- internals ----

  private async check(op: keyof ContainerEngine): Promise<void> {
    await Promise.resolve(); // never synchronous, like a socket round trip
    if (!this.reachable) throw fromDocker(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), this.name, op);
    const err = this.failures.get(op)?.shift();
    if (err) throw err;
  }

  /** An error as Docker would answer it (404 no such..., 409 conflict, 500). */
  private refuse(statusCode: number, message: string, what: string): IconError {
    return fromDocker({ statusCode, json: { message } }, this.name, what);
  }

  private find(ref: string): Container | undefined {
    const byId = this.containers.get(ref);
    if (byId) return byId;
    const matches = [...this.containers.values()].filter((c) => c.spec.name === ref || (ref.length >= 12 && c.id.startsWith(ref)));
    return matches.length === 1 ? matches[0] : undefined;
  }

  private container(ref: string, what: string): Container {
    const c = this.find(ref);
    if (!c) throw this.refuse(404, `No such container: ${ref}`, what);
    return c;
  }

  private info(c: Container): ContainerInfo {
    return {
      // A paused container is still running, as Docker's State.Running says.
      id: c.id, name: c.spec.name, image: c.spec.image, status: c.status, running: up(c), exitCode: c.exitCode,
      error: c.error, oomKilled: c.oomKilled, labels: { ...c.spec.labels }, startedAt: c.startedAt, finishedAt: c.finishedAt, pid: c.pid,
      // On a named network a running container has an address: 10.x.y.z from its pid (unique while it runs).
      addresses: up(c) && c.spec.network.mode === "network" ? { [c.spec.network.network]: `10.${c.pid >> 16 & 255}.${c.pid >> 8 & 255}.${c.pid & 255}` } : {},
      ...(c.spec.network.mode === "container" ? { joinsNetworkOf: c.spec.network.container } : {}),
    };
  }

  private notify(c: Container): void {
    for (const w of [...c.watchers]) w();
  }

  private exited(c: Container, code: number, opts: { oomKilled?: boolean; error?: string } = {}): void {
    if (!up(c)) return;
    Object.assign(c, { status: "exited", exitCode: code, oomKilled: opts.oomKilled ?? false, error: opts.error ?? "", pid: 0 });
    c.finishedAt = new Date(this.clock.now()).toISOString();
    c.run?.abort();
    this.notify(c);
  }

  private hostPort(c: Container): string[] {
    const n = c.spec.network;
    return n.mode === "publish" ? n.ports.map((p) => `${n.hostIp || "0.0.0.0"}:${p.host}`) : [];
  }

  // ---- the ContainerEngine ----

  async ping(): Promise<EngineInfo> {
    await this.check("ping");
    return { version: "memory", apiVersion: "1.41" };
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    await this.check("createContainer");
    const what = `create container ${spec.name}`;
    const img = this.images.find(spec.image);
    if (!img) throw this.refuse(404, `No such image: ${spec.image}`, what);
    if (this.find(spec.name)) throw this.refuse(409, `Conflict. The container name "/${spec.name}" is already in use`, what);
    const id = hex64();
    this.containers.set(id, {
      id, spec: structuredClone(spec), imageId: img.id, status: "created", exitCode: 0, oomKilled: false, error: "", pid: 0,
      created: Math.floor(this.clock.now() / 1000), startedAt: ZERO_TIME, finishedAt: ZERO_TIME, logs: [], watchers: new Set(),
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await this.check("startContainer");
    const what = `start container ${id.slice(0, 12)}`;
    const c = this.container(id, what);
    if (up(c)) return;
    const taken = new Set([...this.containers.values()].filter((o) => o !== c && up(o)).flatMap((o) => this.hostPort(o)));
    const clash = this.hostPort(c).find((p) => taken.has(p));
    if (clash) throw this.refuse(500, `driver failed programming external connectivity: Bind for ${clash} failed: port is already allocated`, what);
    const run = new AbortController();
    Object.assign(c, { status: "running", pid: this.nextPid++, run, oomKilled: false, error: "" });
    c.startedAt = new Date(this.clock.now()).toISOString();
    const img = this.images.find(c.imageId);
    const program = this.programs.get(c.imageId) ?? img?.repoTags.map((t) => this.programs.get(t)).find(Boolean);
    const proc: ContainerProcess = {
      id: c.id,
      spec: c.spec,
      signal: run.signal,
      log: (line, stream = "stdout") => {
        c.logs.push({ stream, line });
        this.notify(c);
      },
      exit: (code, opts) => run === c.run && this.exited(c, code, opts),
      hostPath: (path) => c.spec.binds.find((b) => b.container === path)?.host,
    };
    // Started once start has answered, as a process runs after Docker's start returns.
    queueMicrotask(() => {
      if (run.signal.aborted || !program) return;
      Promise.resolve().then(() => program(proc)).catch((e: Error) => {
        proc.log(String(e?.message ?? e), "stderr");
        proc.exit(1);
      });
    });
  }

  async stopContainer(id: string, _timeoutSec: number): Promise<void> {
    await this.check("stopContainer");
    const c = this.find(id);
    if (!c || !up(c)) return;
    // SIGTERM: a program that exits on the abort picks its code; one that does not is killed (137).
    c.run?.abort();
    this.exited(c, 137);
  }

  /** Only the status changes: a program in this process cannot be frozen (a test sees what the yard does, not a frozen process). */
  async pauseContainer(id: string): Promise<void> {
    await this.check("pauseContainer");
    const c = this.container(id, `pause container ${id.slice(0, 12)}`);
    if (!up(c)) throw this.refuse(409, `Container ${c.id} is not running`, `pause container ${id.slice(0, 12)}`);
    c.status = "paused";
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.check("unpauseContainer");
    const c = this.container(id, `unpause container ${id.slice(0, 12)}`);
    if (c.status === "paused") c.status = "running";
  }

  async renameContainer(id: string, name: string): Promise<void> {
    await this.check("renameContainer");
    const what = `rename container ${id.slice(0, 12)}`;
    const c = this.container(id, what);
    if (this.find(name)) throw this.refuse(409, `Conflict. The container name "/${name}" is already in use`, what);
    c.spec.name = name;
  }

  async removeContainer(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.check("removeContainer");
    const c = this.find(id);
    if (!c) return;
    if (up(c) && !opts.force)
      throw this.refuse(409, `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`, `remove container ${id.slice(0, 12)}`);
    c.run?.abort();
    this.exited(c, 137);
    this.containers.delete(c.id);
    this.notify(c);
  }

  async inspectContainer(id: string): Promise<ContainerInfo | undefined> {
    await this.check("inspectContainer");
    const c = this.find(id);
    return c && this.info(c);
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    await this.check("listContainers");
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.spec.labels[k] === v))
      .map((c) => ({ id: c.id, name: c.spec.name, status: c.status, labels: { ...c.spec.labels }, created: c.created }));
  }

  async waitExit(id: string, signal?: AbortSignal): Promise<number> {
    await this.check("waitExit");
    const c = this.container(id, `wait for container ${id.slice(0, 12)}`);
    return new Promise<number>((resolve, reject) => {
      const done = () => {
        if (up(c)) return;
        c.watchers.delete(done);
        resolve(c.exitCode);
      };
      signal?.addEventListener("abort", () => {
        c.watchers.delete(done);
        reject(new Error("the wait was aborted"));
      }, { once: true });
      c.watchers.add(done);
      done();
    });
  }

  async *logs(id: string, opts: { tail?: number; follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogLine> {
    await this.check("logs");
    const c = this.container(id, `logs of ${id.slice(0, 12)}`);
    let next = opts.tail === undefined ? 0 : Math.max(0, c.logs.length - opts.tail);
    for (;;) {
      while (next < c.logs.length) yield c.logs[next++]!;
      if (!opts.follow || !up(c) || opts.signal?.aborted || !this.containers.has(c.id)) return;
      await new Promise<void>((wake) => {
        const w = () => (c.watchers.delete(w), wake());
        c.watchers.add(w);
        opts.signal?.addEventListener("abort", w, { once: true });
      });
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    await this.check("inspectImage");
    const i = this.images.find(ref);
    return i && this.images.info(i);
  }

  async listImageIds(): Promise<string[]> {
    await this.check("listImageIds");
    return this.images.ids();
  }

  async importImage(rootfsTar: Readable, opts: { repo: string; tag: string; changes: string[] }): Promise<string> {
    await this.check("importImage");
    return this.images.import(rootfsTar, `${opts.repo}:${opts.tag}`, opts.changes);
  }

  async buildImage(): Promise<string> {
    await this.check("buildImage");
    throw new IconError("UNSUPPORTED", "the memory engine does not build images", "Add the image with addImage() in the test.");
  }

  async tagImage(ref: string, repo: string, tag: string): Promise<void> {
    await this.check("tagImage");
    const img = this.images.find(ref);
    if (!img) throw this.refuse(404, `No such image: ${ref}`, `tag image ${ref}`);
    this.images.tag(img, `${repo}:${tag}`);
  }

  async removeImage(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.check("removeImage");
    this.images.remove(ref, (id) => [...this.containers.values()].find((c) => c.imageId === id)?.id, opts.force ?? false);
  }

  async readImageFile(ref: string, path: string): Promise<Uint8Array | undefined> {
    await this.check("readImageFile");
    const img = this.images.find(ref);
    if (!img) throw this.refuse(404, `No such image: ${ref}`, `read ${path} of image ${ref}`);
    return this.images.file(img, path);
  }

  async saveImages(refs: string[]): Promise<Readable> {
    await this.check("saveImages");
    return this.images.save(refs);
  }

  async loadImage(archive: Readable): Promise<void> {
    await this.check("loadImage");
    await this.images.load(archive);
  }

  /** From the registry given at construction: an image saved there whole by a push (the bytes: its archive's). */
  async pullImage(ref: string): Promise<{ bytes: number }> {
    await this.check("pullImage");
    const archive = this.registry?.get(fullTag(ref));
    if (!archive) throw this.refuse(404, `manifest for ${ref} not found: manifest unknown`, `pull ${ref}`);
    await this.images.load(Readable.from([archive]));
    return { bytes: archive.length };
  }

  async pushImage(ref: string): Promise<void> {
    await this.check("pushImage");
    if (!this.registry) throw this.refuse(500, `no registry reachable for ${ref}`, `push ${ref}`);
    this.registry.set(fullTag(ref), await readAll(this.images.save([ref], [fullTag(ref)])));
  }
}
