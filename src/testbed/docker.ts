/**
 * --docker mode: an IEP host's network namespace is the namespace of a long-lived container, so ICON
 * containers started with `--network container:<it>` listen on the IEP's address (DESIGN.md "Testbed
 * facts"). The container runs a tiny image built here from the host's own /bin/sleep and the libraries
 * it links (no registry is assumed anywhere).
 */
import { mkdtempSync, mkdirSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { IconError } from "../errors.ts";
import { LABEL, PAUSE_IMAGE } from "./names.ts";
import { must, run } from "./shell.ts";

const dockerMissing = (what: string, detail: string) =>
  new IconError("DOCKER", `${what}: ${detail.trim().split("\n").slice(-2).join("; ")}`, "Start the Docker engine (scripts/setup.sh starts dockerd) or drop --docker.");

async function docker(args: string[], what: string, stdin?: string): Promise<string> {
  const r = await run(["docker", ...args], stdin);
  if (r.code !== 0) throw dockerMissing(what, r.stderr || r.stdout);
  return r.stdout.trim();
}

/** A binary and the libraries ldd says it loads (libc, the loader, ...). */
async function withLibraries(binary: string): Promise<string[]> {
  const out = await must(["ldd", binary], `listing the libraries of ${binary}`);
  const libs = out.split("\n").map((l) => l.match(/(\/\S+)\s+\(0x/)?.[1]).filter((p): p is string => !!p);
  return [binary, ...libs];
}

/**
 * Builds `tag` once from host binaries and their libraries (docker import of a tar made here), with
 * `cmd` as its command. Returns true if it had to build.
 */
export async function ensureImageFromBinaries(tag: string, binaries: [string, string][], cmd: string[]): Promise<boolean> {
  if ((await run(["docker", "image", "inspect", tag])).code === 0) return false;
  const dir = mkdtempSync(join(tmpdir(), "icon-image-"));
  try {
    for (const [from, to] of binaries)
      for (const f of await withLibraries(from)) {
        const dest = join(dir, f === from ? to : f);
        mkdirSync(dirname(dest), { recursive: true });
        copyFileSync(f, dest); // follows symlinks: the image holds real files
      }
    await must(["sh", "-c", `tar -C '${dir}' -cf - . | docker import --change '${`CMD ${JSON.stringify(cmd)}`}' --change 'LABEL ${LABEL}=image' - ${tag}`],
      `building ${tag}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}

/** The pause image: /bin/sleep and its libraries, sleeping forever. */
export const ensurePauseImage = () => ensureImageFromBinaries(PAUSE_IMAGE, [["/bin/sleep", "/bin/sleep"]], ["/bin/sleep", "infinity"]);

/** Starts the namespace-owning container and returns its PID (whose netns `ip netns attach` names). */
export async function startHostContainer(container: string, testbed: string, node: string): Promise<number> {
  const existing = await run(["docker", "inspect", "-f", `{{index .Config.Labels "${LABEL}"}}`, container]);
  if (existing.code === 0) {
    if (existing.stdout.trim() !== testbed)
      throw new IconError("CONFLICT", `a container named ${container} exists and is not testbed ${testbed}'s`, `Remove it (docker rm -f ${container}) or use another --name.`);
    await docker(["rm", "-f", container], `removing stale ${container}`);
  }
  await docker(["run", "-d", "--name", container, "--hostname", node, "--network", "none", "--restart", "no",
    "--label", `${LABEL}=${testbed}`, "--label", `${LABEL}.node=${node}`, PAUSE_IMAGE], `starting ${container}`);
  const pid = Number(await docker(["inspect", "-f", "{{.State.Pid}}", container], `inspecting ${container}`));
  if (!(pid > 0)) throw new IconError("DOCKER", `container ${container} is not running`, `See: docker logs ${container}`);
  return pid;
}

/** Removes every container labelled as this testbed's; returns their names. */
export async function removeContainers(testbed: string): Promise<string[]> {
  const r = await run(["docker", "ps", "-a", "--filter", `label=${LABEL}=${testbed}`, "--format", "{{.Names}}"]).catch(() => undefined);
  if (!r || r.code !== 0) return []; // no Docker (or no daemon): nothing of ours can exist there
  const names = r.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
  if (names.length) await docker(["rm", "-f", ...names], "removing testbed containers");
  return names;
}

export async function containerRunning(container: string): Promise<boolean> {
  const r = await run(["docker", "inspect", "-f", "{{.State.Running}}", container]);
  return r.code === 0 && r.stdout.trim() === "true";
}
