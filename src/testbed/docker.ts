/**
 * --docker mode: an IEP host's network namespace is the namespace of a long-lived container, so ICON
 * containers started with `--network container:<it>` listen on the IEP's address (DESIGN.md "Testbed
 * facts"). The container runs a tiny image built here from the host's own /bin/sleep and the libraries
 * it links (no registry is assumed anywhere). Every Docker engine the testbed uses (the main one, and
 * the hosts' own dockerds of --engines) is reached through the product's ContainerEngine (dockerode on
 * its socket), so the testbed needs dockerd but not the docker CLI.
 */
import { mkdtempSync, mkdirSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { engineAnswers, type ContainerEngine, type ContainerSpec } from "../engine/container-engine.ts";
import { copyImage as copy, type CopyImageResult } from "../engine/copy-image.ts";
import { createDockerEngine } from "../engine/docker-engine.ts";
import { IconError } from "../errors.ts";
import { LABEL, PAUSE_IMAGE } from "./names.ts";
import { must } from "./shell.ts";

/** Where the main engine listens (what `docker` talks to by default). */
export const MAIN_DOCKER_SOCKET = "/var/run/docker.sock";

/** The engine on `socket`: the main one, or a host's own dockerd (whose fix, when it is dead, is another `up`). */
export function engineAt(socket: string): Promise<ContainerEngine> {
  return createDockerEngine(socket, {
    unreachableFix: socket === MAIN_DOCKER_SOCKET ? "Start the Docker engine (scripts/setup.sh starts dockerd)." : "Run `icon testbed up --engines` again: it restarts a dead engine.",
  });
}

const main = () => engineAt(MAIN_DOCKER_SOCKET);

export interface CopyImageOptions {
  /** Socket of the engine that holds the image (default the main engine, /var/run/docker.sock). */
  from?: string;
  /** Socket of the engine to load it into, e.g. a host's `dockerSocket` from `icon testbed status --json`. */
  to: string;
}

/** Seeds one engine with an image from another (by default from the main engine into a host's own engine). */
export async function copyImage(ref: string, o: CopyImageOptions): Promise<CopyImageResult> {
  const from = o.from ?? MAIN_DOCKER_SOCKET;
  const [a, b] = await Promise.all([engineAt(from), engineAt(o.to)]);
  return copy(ref, { engine: a, name: `the engine at ${from}` }, { engine: b, name: `the engine at ${o.to}` });
}

/** "repo:tag" (the tag defaults to latest; a registry port is not a tag). */
function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.lastIndexOf(":");
  return at > ref.lastIndexOf("/") ? { repo: ref.slice(0, at), tag: ref.slice(at + 1) } : { repo: ref, tag: "latest" };
}

/** A binary and the libraries ldd says it loads (libc, the loader, ...). */
async function withLibraries(binary: string): Promise<string[]> {
  const out = await must(["ldd", binary], `listing the libraries of ${binary}`);
  const libs = out.split("\n").map((l) => l.match(/(\/\S+)\s+\(0x/)?.[1]).filter((p): p is string => !!p);
  return [binary, ...libs];
}

/**
 * Builds `tag` once from host binaries and their libraries (an import of a tar made here), with `cmd`
 * as its command. Returns true if it had to build.
 */
export async function ensureImageFromBinaries(tag: string, binaries: [string, string][], cmd: string[]): Promise<boolean> {
  const engine = await main();
  if (await engine.inspectImage(tag)) return false;
  const dir = mkdtempSync(join(tmpdir(), "icon-image-"));
  try {
    for (const [from, to] of binaries)
      for (const f of await withLibraries(from)) {
        const dest = join(dir, f === from ? to : f);
        mkdirSync(dirname(dest), { recursive: true });
        copyFileSync(f, dest); // follows symlinks: the image holds real files
      }
    const tar = Bun.spawn(["tar", "-C", dir, "-cf", "-", "."], { stdout: "pipe", stderr: "pipe" });
    const rootfs = Readable.fromWeb(tar.stdout as import("node:stream/web").ReadableStream<Uint8Array>);
    await engine.importImage(rootfs, { ...splitRef(tag), changes: [`CMD ${JSON.stringify(cmd)}`, `LABEL ${LABEL}=image`] });
    if ((await tar.exited) !== 0) throw new IconError("FAILED", `building ${tag}: tar failed: ${await new Response(tar.stderr).text()}`, "Check that tar is installed.");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}

/** The pause image: /bin/sleep and its libraries, sleeping forever. */
export const ensurePauseImage = () => ensureImageFromBinaries(PAUSE_IMAGE, [["/bin/sleep", "/bin/sleep"]], ["/bin/sleep", "infinity"]);

/**
 * The namespace-owning container of `node`: it only sleeps, in a network namespace the testbed wires
 * (none of Docker's), with no limits; it never restarts by itself (`down` removes it, `up` makes it anew).
 */
export function hostContainerSpec(container: string, testbed: string, node: string): ContainerSpec {
  return {
    name: container, image: PAUSE_IMAGE, hostname: node, env: {}, labels: { [LABEL]: testbed, [`${LABEL}.node`]: node },
    user: "", binds: [], tmpfs: {}, readOnlyRoot: false, capDrop: [], securityOpt: [],
    memoryBytes: 0, nanoCpus: 0, pidsLimit: 0, init: false, network: { mode: "none" }, stopTimeoutSec: 10,
  };
}

/** Starts the namespace-owning container and returns its PID (whose netns `ip netns attach` names). */
export async function startHostContainer(container: string, testbed: string, node: string): Promise<number> {
  const engine = await main();
  const existing = await engine.inspectContainer(container);
  if (existing) {
    if (existing.labels[LABEL] !== testbed)
      throw new IconError("CONFLICT", `a container named ${container} exists and is not testbed ${testbed}'s`, `Remove it (docker rm -f ${container}) or use another --name.`);
    await engine.removeContainer(existing.id, { force: true });
  }
  const id = await engine.createContainer(hostContainerSpec(container, testbed, node));
  await engine.startContainer(id);
  const pid = (await engine.inspectContainer(id))?.pid ?? 0;
  if (!(pid > 0)) throw new IconError("DOCKER", `container ${container} is not running`, `See: docker logs ${container}`);
  return pid;
}

/** Removes every container labelled as this testbed's; returns their names. */
export async function removeContainers(testbed: string): Promise<string[]> {
  const engine = await main();
  if (!(await engineAnswers(engine, 2000))) return []; // no Docker (or no daemon): nothing of ours can exist there
  const ours = await engine.listContainers({ [LABEL]: testbed });
  await Promise.all(ours.map((c) => engine.removeContainer(c.id, { force: true })));
  return ours.map((c) => c.name || c.id.slice(0, 12));
}

export async function containerRunning(container: string): Promise<boolean> {
  const engine = await main();
  return (await engine.inspectContainer(container).catch(() => undefined))?.running === true;
}
