/**
 * --docker mode: an IEP host's network namespace is the namespace of a long-lived container, so ICON
 * containers started with `--network container:<it>` listen on the IEP's address (DESIGN.md "Testbed
 * facts"). The container runs a tiny image built here from the host's own /bin/sleep and the libraries
 * it links (no registry is assumed anywhere). Everything goes through the main engine's API
 * (./engines/api.ts), so the testbed needs dockerd but not the docker CLI.
 */
import { mkdtempSync, mkdirSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { IconError } from "../errors.ts";
import { EngineApi, MAIN_DOCKER_SOCKET } from "./engines/api.ts";
import { LABEL, PAUSE_IMAGE } from "./names.ts";
import { must } from "./shell.ts";

const main = () => new EngineApi(MAIN_DOCKER_SOCKET);

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
  const api = main();
  if (await api.imageId(tag)) return false;
  const dir = mkdtempSync(join(tmpdir(), "icon-image-"));
  try {
    for (const [from, to] of binaries)
      for (const f of await withLibraries(from)) {
        const dest = join(dir, f === from ? to : f);
        mkdirSync(dirname(dest), { recursive: true });
        copyFileSync(f, dest); // follows symlinks: the image holds real files
      }
    const tar = Bun.spawn(["tar", "-C", dir, "-cf", "-", "."], { stdout: "pipe", stderr: "pipe" });
    await api.importImage(tar.stdout, tag, [`CMD ${JSON.stringify(cmd)}`, `LABEL ${LABEL}=image`]);
    if ((await tar.exited) !== 0) throw new IconError("FAILED", `building ${tag}: tar failed: ${await new Response(tar.stderr).text()}`, "Check that tar is installed.");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}

/** The pause image: /bin/sleep and its libraries, sleeping forever. */
export const ensurePauseImage = () => ensureImageFromBinaries(PAUSE_IMAGE, [["/bin/sleep", "/bin/sleep"]], ["/bin/sleep", "infinity"]);

/** Starts the namespace-owning container and returns its PID (whose netns `ip netns attach` names). */
export async function startHostContainer(container: string, testbed: string, node: string): Promise<number> {
  const api = main();
  const existing = await api.inspectContainer(container);
  if (existing) {
    if (existing.labels[LABEL] !== testbed)
      throw new IconError("CONFLICT", `a container named ${container} exists and is not testbed ${testbed}'s`, `Remove it (docker rm -f ${container}) or use another --name.`);
    await api.removeContainer(existing.id);
  }
  const id = await api.runContainer(container, {
    Image: PAUSE_IMAGE, Hostname: node, Labels: { [LABEL]: testbed, [`${LABEL}.node`]: node },
    HostConfig: { NetworkMode: "none", RestartPolicy: { Name: "no" } },
  });
  const pid = (await api.inspectContainer(id))?.pid ?? 0;
  if (!(pid > 0)) throw new IconError("DOCKER", `container ${container} is not running`, `See: docker logs ${container}`);
  return pid;
}

/** Removes every container labelled as this testbed's; returns their names. */
export async function removeContainers(testbed: string): Promise<string[]> {
  const api = main();
  if (!(await api.ping(2000))) return []; // no Docker (or no daemon): nothing of ours can exist there
  const ours = await api.listContainers(`${LABEL}=${testbed}`);
  await Promise.all(ours.map((c) => api.removeContainer(c.id)));
  return ours.map((c) => c.names[0] ?? c.id.slice(0, 12));
}

export async function containerRunning(container: string): Promise<boolean> {
  return (await main().inspectContainer(container).catch(() => undefined))?.running === true;
}
