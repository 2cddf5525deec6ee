/**
 * Which user an ICON runs as. An image's USER can spell root in many ways (`root`, `0`, `00`,
 * `root:root`, `root:0`, or any name its own /etc/passwd maps to uid 0), and a uid with no group gets
 * gid 0 from Docker; a plain string compare misses most of them. So the USER is resolved to numbers,
 * with the image's /etc/passwd and /etc/group read only when a name needs them, and the container
 * runs as those numbers.
 *
 * An image that names no user, or root, runs as nobody (65534:65534); a root group becomes nogroup.
 * The operator may ask for root explicitly (`icon run --user 0`) only where uid 0 inside is not uid 0
 * on the host: on the node's own engine (user namespaces), never on an external one.
 */
import { IconError } from "../errors.ts";
import type { ContainerEngine, ImageInfo } from "../engine/container-engine.ts";

/** nobody:nogroup */
export const NOBODY = 65534;
export const DEFAULT_USER = `${NOBODY}:${NOBODY}`;

export interface Ids {
  uid: number;
  gid: number;
}

/** A line of /etc/passwd or /etc/group by name (field 0) or by its id (field 2). */
function entry(table: string | undefined, key: string, byId: boolean): string[] | undefined {
  for (const line of (table ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && (byId ? f[2] === key : f[0] === key)) return f;
  }
  return undefined;
}

const numeric = (s: string) => /^\d+$/.test(s);

/** Where a USER names something the files must resolve: a user name, a group name, or a uid with no group. */
export function needsFiles(spec: string): { passwd: boolean; group: boolean } {
  const [user = "", group] = spec.split(":");
  return { passwd: user !== "root" && (!numeric(user) || group === undefined), group: group !== undefined && !numeric(group) && group !== "root" };
}

/**
 * The numbers a USER spec stands for, as Docker would resolve it: a name through passwd (its primary
 * group unless a group is given), a uid with no group through passwd by uid, else gid 0. Throws when a
 * name is not in the image's files (the container would not start).
 */
export function resolveUser(spec: string, files: { passwd?: string; group?: string } = {}): Ids {
  const [user = "", group] = spec.split(":");
  const pw = user === "root" ? ["root", "x", "0", "0"] : entry(files.passwd, user, numeric(user));
  if (!numeric(user) && !pw)
    throw new IconError("INVALID_INPUT", `user "${user}" is not in the image's /etc/passwd`, "Name a user the image defines, or a numeric uid:gid.");
  const uid = numeric(user) ? Number(user) : Number(pw![2]);
  let gid: number;
  if (group === undefined) gid = Number(pw?.[3] ?? 0);
  else if (numeric(group)) gid = Number(group);
  else if (group === "root") gid = 0;
  else {
    const g = entry(files.group, group, false);
    if (!g) throw new IconError("INVALID_INPUT", `group "${group}" is not in the image's /etc/group`, "Name a group the image defines, or a numeric gid.");
    gid = Number(g[2]);
  }
  return { uid, gid };
}

async function filesFor(engine: ContainerEngine, image: string, spec: string): Promise<{ passwd?: string; group?: string }> {
  const need = needsFiles(spec);
  const read = async (path: string) => {
    const bytes = await engine.readImageFile(image, path);
    return bytes && new TextDecoder().decode(bytes);
  };
  return { passwd: need.passwd ? await read("/etc/passwd") : undefined, group: need.group ? await read("/etc/group") : undefined };
}

export interface UserChoice {
  /** "uid:gid" the container runs as. */
  user: string;
  /** The image's own USER was root (or a root group) and was replaced. */
  remapped: boolean;
}

/** The user an ICON runs as: `requested` (the operator's --user), else the image's USER, resolved and made safe. */
export async function iconUser(engine: ContainerEngine, image: ImageInfo & { ref: string }, requested: string | undefined, userns: boolean): Promise<UserChoice> {
  const spec = (requested ?? image.user).trim();
  if (spec === "") return { user: DEFAULT_USER, remapped: false };
  const ids = resolveUser(spec, await filesFor(engine, image.ref, spec));
  if (requested !== undefined) {
    if ((ids.uid === 0 || ids.gid === 0) && !userns)
      throw new IconError("INVALID_INPUT", `user "${requested}" is root on the host: this node's engine has no user namespaces`,
        "Ask for a non-root uid:gid, or run the ICON on a node with its own engine (engine own), where root inside is not root outside.");
    return { user: `${ids.uid}:${ids.gid}`, remapped: false };
  }
  if (ids.uid === 0) return { user: DEFAULT_USER, remapped: true };
  if (ids.gid === 0) return { user: `${ids.uid}:${NOBODY}`, remapped: true };
  return { user: `${ids.uid}:${ids.gid}`, remapped: false };
}
