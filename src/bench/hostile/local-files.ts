/**
 * Finding 13 (local files): what another local user could read or change in a node's data directory.
 * The data dir must be 0700 whatever it was before the node first ran; the key, the ICON records
 * (they hold each ICON's env) and the admission list must be 0600, and the API socket reachable by the
 * node's user only.
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface Exposure {
  path: string;
  mode: string;
  why: string;
}

/** Files and directories of a data dir that group or others can reach. */
export async function probeLocalFiles(dataDir: string): Promise<Exposure[]> {
  const out: Exposure[] = [];
  const look = async (path: string, why: string) => {
    const st = await lstat(path).catch(() => undefined);
    if (st && st.mode & 0o077) out.push({ path, mode: (st.mode & 0o777).toString(8).padStart(4, "0"), why });
  };
  await look(dataDir, "the data dir lets other users in");
  await look(join(dataDir, "identity.json"), "the node's private key");
  await look(join(dataDir, "icon.sock"), "the local API drives the node");
  await look(join(dataDir, "admission.json"), "who may run replicas here");
  for (const name of await readdir(join(dataDir, "icons")).catch(() => [] as string[])) await look(join(dataDir, "icons", name, "icon.json"), "an ICON's record holds its env");
  return out;
}
