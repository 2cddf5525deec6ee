/**
 * ICON records on disk: `<data-dir>/icons/<name>/icon.json`, written atomically (temp file + rename) so a
 * node killed mid-write keeps the previous record. Beside it, `sock/` is the only directory an ICON's
 * container sees (mounted at /run/icon): the record itself stays out of the container's reach.
 */
import { chmod, lstat, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { IconRecord } from "./types.ts";
import { writePrivateFile } from "../util/private-file.ts";

/** Docker-compatible, short enough for container names and socket paths. */
export const NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,39}$/;
/** Unix socket paths are limited to 107 bytes (sun_path). */
const MAX_SOCKET_PATH = 107;

export function checkName(name: string): void {
  if (!NAME_RE.test(name))
    throw new IconError("INVALID_INPUT", `name "${name}" is not a valid ICON name`, "Use 1-40 characters: lowercase letters, digits, '_', '.', '-', starting with a letter or digit.");
}

/** A directory of the node's, with exactly `mode`: never chmod through a symlink planted in its place. */
async function ownDir(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true, mode });
  const st = await lstat(path);
  if (!st.isDirectory())
    throw new IconError("CONFLICT", `${path} is not a directory the node made`, `Remove it (rm ${path}) and start the ICON again.`);
  if ((st.mode & 0o7777) !== mode) await chmod(path, mode);
}

export class IconStore {
  readonly root: string;
  constructor(
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.root = join(dataDir, "icons");
  }

  dir(name: string): string {
    return join(this.root, name);
  }
  socketDir(name: string): string {
    return join(this.root, name, "sock");
  }
  socketPath(name: string): string {
    return join(this.socketDir(name), "icon.sock");
  }

  /**
   * Creates the ICON's directories, owned by the node: the socket directory is traversable by the
   * container's user but not writable (no files to fill the disk, no symlink in the socket's place).
   */
  async prepare(name: string): Promise<void> {
    const path = this.socketPath(name);
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
      throw new IconError("CONFIG", `the ICON socket path ${path} is longer than the ${MAX_SOCKET_PATH} bytes a Unix socket allows`, "Use a shorter --data-dir or ICON name.");
    await ownDir(this.dir(name), 0o700);
    // The container user (not root) must reach the socket; the data dir above stays 0700 for host users.
    await ownDir(this.socketDir(name), 0o711);
  }

  /** The record holds the ICON's env (its secrets): 0600, replaced atomically. */
  async save(rec: IconRecord): Promise<void> {
    await mkdir(this.dir(rec.name), { recursive: true, mode: 0o700 });
    await writePrivateFile(join(this.dir(rec.name), "icon.json"), JSON.stringify(rec, null, 2) + "\n");
  }

  async remove(name: string): Promise<void> {
    await rm(this.dir(name), { recursive: true, force: true });
  }

  /** Every readable record; an unreadable one is reported and skipped, never deleted. */
  async loadAll(): Promise<IconRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    const out: IconRecord[] = [];
    for (const name of names) {
      const file = Bun.file(join(this.root, name, "icon.json"));
      if (!(await file.exists())) continue;
      try {
        const rec = (await file.json()) as IconRecord;
        if (rec.name !== name || typeof rec.image !== "string" || !Number.isInteger(rec.port)) throw new Error("fields missing or inconsistent");
        out.push({ ...rec, env: rec.env ?? {}, children: rec.children ?? [], policy: rec.policy ?? {} });
      } catch (e) {
        this.log.warn("skipping an unreadable ICON record", { file: file.name, error: e as Error });
      }
    }
    return out;
  }
}
