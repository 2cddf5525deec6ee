/**
 * The node's data directory holds its private key, the ICONs' records (with their env) and the local
 * API socket, so only the node's user may enter it: made 0700, and closed to 0700 when it already exists
 * with a wider mode (made by hand, by a package, by an older version). A directory that belongs to
 * another user is refused: closing it would lock that user out, leaving it would expose the node.
 */
import { chmod, mkdir, stat } from "node:fs/promises";
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";

export async function prepareDataDir(dir: string, log?: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e; // a file in its place: said below
  });
  const st = await stat(dir);
  if (!st.isDirectory()) throw new IconError("CONFIG", `data dir ${dir} is not a directory`, "Pass another --data-dir.");
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new IconError("CONFIG", `data dir ${dir} belongs to uid ${st.uid}, but the node runs as uid ${uid}`, `Run the node as its owner, or "chown -R ${uid} ${dir}", or pass another --data-dir.`);
  if (st.mode & 0o077) {
    await chmod(dir, 0o700);
    log?.warn("closed the data dir to other users (it was open to them)", { dataDir: dir, was: (st.mode & 0o777).toString(8), now: "700" });
  }
}
