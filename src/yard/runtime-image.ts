/**
 * `icon runtime build`: the icon-runtime base image, made locally from this binary's own files, with no
 * registry (DESIGN.md): FROM scratch, the `icon` executable (which acts as a plain Bun when started with
 * BUN_BE_BUN=1), the glibc files it links (found with ldd), the runtime library at
 * /node_modules/icon-runtime (so /app/server.ts imports "icon-runtime"), and a nobody user. An ICON
 * author's whole Dockerfile is then FROM icon-runtime:<version> / COPY server.ts /app/server.ts.
 */
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { ContainerEngine } from "../engine/container-engine.ts";
import { runtimeLibraryFiles } from "./runtime-files.ts";
import { tarStream, type TarItem } from "../util/tar.ts";

export const RUNTIME_REPO = "icon-runtime";
const BIN = "usr/local/bin/icon";

/** A Docker tag for this binary's version ("0.1.0+abc1234" → "0.1.0-abc1234"). */
export function runtimeTag(version = VERSION): string {
  return version.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 128);
}

/** The executable to put in the image: this one when compiled, dist/icon when run from source. */
export function runtimeExecutable(): string {
  if (import.meta.path.startsWith("/$bunfs/") || Bun.main.startsWith("/$bunfs/")) return process.execPath;
  const dist = join(import.meta.dir, "../../dist/icon");
  if (!existsSync(dist))
    throw new IconError("NOT_FOUND", `running from source, the runtime image is built from the compiled binary ${dist}, which is missing`,
      "Build it first: node_modules/.bin/bun build.ts (or run scripts/setup.sh).");
  return dist;
}

/** The shared libraries an executable needs, as ldd lists them (path in the image → file on the host). */
export function sharedLibraries(exe: string): string[] {
  let p;
  try {
    p = Bun.spawnSync(["ldd", exe], { stdout: "pipe", stderr: "pipe" });
  } catch {
    throw new IconError("UNSUPPORTED", "ldd is not installed, so the libraries the binary needs cannot be listed", "Install it (Debian: apt-get install libc-bin).");
  }
  const text = p.stdout.toString() + p.stderr.toString();
  if (/not a dynamic executable|statically linked/.test(text)) return [];
  if (p.exitCode !== 0) throw new IconError("FAILED", `ldd ${exe} failed: ${text.trim()}`);
  const libs: string[] = [];
  for (const line of text.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
    else if (/not found/.test(line)) throw new IconError("FAILED", `the binary needs a library that is missing here: ${line.trim()}`);
  }
  return libs;
}

/** The root filesystem of the image, entry by entry. */
export function runtimeRootfs(exe: string, libs: string[], version = VERSION): TarItem[] {
  const dirs = new Set<string>(["usr", "usr/local", "usr/local/bin", "etc", "tmp", "app", "run", "run/icon", "node_modules", "node_modules/icon-runtime", "node_modules/icon-runtime/src"]);
  for (const lib of libs) {
    const parts = lib.slice(1).split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  const items: TarItem[] = [...dirs].sort().map((d) => ({ path: d, type: "dir", mode: d === "tmp" ? 0o1777 : 0o755 }));
  items.push({ path: BIN, type: "file", mode: 0o755, source: exe });
  // Libraries are often symlinks on the host; the image gets the real file under the name ldd gave.
  for (const lib of [...new Set(libs)].sort()) items.push({ path: lib.slice(1), type: "file", mode: 0o755, source: realpathSync(lib) });
  items.push({ path: "etc/passwd", type: "file", mode: 0o644, data: "root:x:0:0:root:/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n" });
  items.push({ path: "etc/group", type: "file", mode: 0o644, data: "root:x:0:\nnogroup:x:65534:\n" });
  for (const [rel, text] of Object.entries(runtimeLibraryFiles(version)))
    items.push({ path: `node_modules/icon-runtime/${rel}`, type: "file", mode: 0o644, data: text });
  return items;
}

/** Dockerfile-style settings of the image (docker import --change). */
export function runtimeChanges(version = VERSION): string[] {
  return [
    // The binary acts as the plain bun CLI; the root is read-only in an ICON, so Bun must not write
    // outside /tmp: no transpiler cache, HOME and TMPDIR on the tmpfs.
    "ENV BUN_BE_BUN=1",
    "ENV BUN_RUNTIME_TRANSPILER_CACHE_PATH=0",
    "ENV HOME=/tmp",
    "ENV TMPDIR=/tmp",
    "ENV NODE_ENV=production",
    "WORKDIR /app",
    "USER 65534:65534",
    `LABEL icon.runtime.version=${JSON.stringify(version)}`,
    `ENTRYPOINT ["/${BIN}"]`,
    'CMD ["/app/server.ts"]',
  ];
}

export interface RuntimeBuildResult {
  image: string;
  tags: string[];
  id: string;
  sizeBytes: number;
  /** The single layer's digest: equal on every node that builds from the same binary. */
  diffId: string;
  executable: string;
  libraries: string[];
  ms: number;
}

export async function buildRuntimeImage(engine: ContainerEngine, opts: { repo?: string; onProgress?: (e: { type: string; [k: string]: unknown }) => void } = {}): Promise<RuntimeBuildResult> {
  const started = performance.now();
  const repo = opts.repo ?? RUNTIME_REPO;
  const tag = runtimeTag();
  await engine.ping();
  const exe = runtimeExecutable();
  const libs = sharedLibraries(exe);
  opts.onProgress?.({ type: "files", executable: exe, libraries: libs, bytes: Bun.file(exe).size });
  const items = runtimeRootfs(exe, libs);
  await engine.importImage(tarStream(items), { repo, tag, changes: runtimeChanges() });
  opts.onProgress?.({ type: "imported", image: `${repo}:${tag}` });
  await engine.tagImage(`${repo}:${tag}`, repo, "latest");
  const info = await engine.inspectImage(`${repo}:${tag}`);
  if (!info) throw new IconError("FAILED", `the import finished but ${repo}:${tag} is not there`, "See the Docker engine's log.");
  return {
    image: `${repo}:${tag}`,
    tags: [`${repo}:${tag}`, `${repo}:latest`],
    id: info.id,
    sizeBytes: info.size,
    diffId: info.diffIds[0] ?? "",
    executable: exe,
    libraries: libs,
    ms: Math.round(performance.now() - started),
  };
}
