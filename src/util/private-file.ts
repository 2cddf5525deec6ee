/**
 * Files only the node's user may read (keys, ICON records with their env, the admission list): created
 * with their final mode (O_CREAT|O_EXCL, mode 0600), never created readable and chmod'ed afterwards,
 * which would leave a moment in which another user can open them.
 */
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";

export const PRIVATE_MODE = 0o600;

/** Creates `path`, failing (EEXIST) if it exists. */
export function createPrivateFile(path: string, text: string): Promise<void> {
  return writeFile(path, text, { mode: PRIVATE_MODE, flag: "wx" });
}

/** Replaces `path` atomically: a new private file beside it, renamed over it. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await createPrivateFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
