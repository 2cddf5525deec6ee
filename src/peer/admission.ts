/**
 * Admission: whose ICONs this node runs as replicas. Open admits every owner; allowlist only the owners
 * listed in `<data-dir>/admission.json` (managed with `icon admission`), and always this node's own key.
 * The owner is the key that signed the ICON's manifest (yard/manifest.ts), never the node that relays the
 * request: a replica replicating onward does not lend its node's standing to a stranger's ICON.
 *
 * The mode comes from the `admission` setting until `icon admission mode` records one in the file, which
 * then wins (the list command says which). The running node changes the file through its local API; with
 * the node stopped the CLI edits the file itself, with the same code.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import { writePrivateFile } from "../util/private-file.ts";
import { OWNER_KEY } from "../yard/manifest.ts";

export type AdmissionMode = "open" | "allowlist";
export const ADMISSION_MODES: readonly AdmissionMode[] = ["open", "allowlist"];
export const ADMISSION_FILE = "admission.json";
const MAX_NOTE = 200;

export interface AllowedOwner {
  key: string;
  note?: string;
  addedAt: string;
}

interface AdmissionFile {
  mode?: AdmissionMode;
  owners: AllowedOwner[];
}

export interface AdmissionView {
  mode: AdmissionMode;
  /** Where the mode comes from: the `admission` setting, or the file (`icon admission mode`). */
  modeFrom: "setting" | "file";
  file: string;
  owners: AllowedOwner[];
  /** This node's own key, always admitted (absent when the CLI edits the file of a stopped node). */
  self?: string;
  /** Replicate requests refused because their owner is not admitted, since the node started. */
  refused: number;
}

export function checkOwnerKey(key: string): string {
  const k = key.trim().toLowerCase();
  if (!OWNER_KEY.test(k))
    throw new IconError("USAGE", `"${key}" is not an owner key (64 hex digits: an ed25519 public key)`, 'Ask the owner for the ownerKey that "icon node status" shows on their node.');
  return k;
}

export class Admission {
  private refusedCount = 0;

  private constructor(
    private readonly path: string,
    private readonly setting: AdmissionMode,
    private file: AdmissionFile,
    private readonly self?: string,
  ) {}

  /** Reads the data dir's admission file (none yet: the setting's mode and an empty list). */
  static async open(dataDir: string, setting: AdmissionMode, self?: string): Promise<Admission> {
    const path = join(dataDir, ADMISSION_FILE);
    let text: string | undefined;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    return new Admission(path, setting, text === undefined ? { owners: [] } : parseFile(path, text), self);
  }

  /** Requests refused since the node started. */
  get refused(): number {
    return this.refusedCount;
  }

  get mode(): AdmissionMode {
    return this.file.mode ?? this.setting;
  }

  admits(owner: string): boolean {
    return this.mode === "open" || owner === this.self || this.file.owners.some((o) => o.key === owner);
  }

  /** Throws NOT_ADMITTED (counted) when the owner's ICONs may not run here. */
  check(owner: string): void {
    if (this.admits(owner)) return;
    this.refusedCount++;
    throw new IconError("NOT_ADMITTED", `this node runs replicas only of the owners it lists (admission allowlist); owner ${owner.slice(0, 16)}… is not one`,
      "The ICON stays where it is. The node's operator can admit the owner with \"icon admission allow KEY\".");
  }

  view(): AdmissionView {
    const v: AdmissionView = { mode: this.mode, modeFrom: this.file.mode ? "file" : "setting", file: this.path, owners: this.file.owners.map((o) => ({ ...o })), refused: this.refusedCount };
    if (this.self) v.self = this.self;
    return v;
  }

  async allow(key: string, note?: string): Promise<AdmissionView> {
    const k = checkOwnerKey(key);
    if (note !== undefined && note.length > MAX_NOTE) throw new IconError("USAGE", `the note is longer than ${MAX_NOTE} characters`, "Shorten it.");
    const owners = this.file.owners.filter((o) => o.key !== k);
    owners.push({ key: k, ...(note ? { note } : {}), addedAt: new Date().toISOString() });
    return this.save({ ...this.file, owners });
  }

  async deny(key: string): Promise<AdmissionView> {
    const k = checkOwnerKey(key);
    if (!this.file.owners.some((o) => o.key === k)) throw new IconError("NOT_FOUND", `owner ${k.slice(0, 16)}… is not on the list`, 'See "icon admission list".');
    return this.save({ ...this.file, owners: this.file.owners.filter((o) => o.key !== k) });
  }

  async setMode(mode: string): Promise<AdmissionView> {
    if (!(ADMISSION_MODES as readonly string[]).includes(mode)) throw new IconError("USAGE", `admission mode "${mode}" is neither open nor allowlist`, "Use: icon admission mode open|allowlist.");
    return this.save({ ...this.file, mode: mode as AdmissionMode });
  }

  private async save(next: AdmissionFile): Promise<AdmissionView> {
    await writePrivateFile(this.path, JSON.stringify(next, null, 2) + "\n");
    this.file = next;
    return this.view();
  }
}

function parseFile(path: string, text: string): AdmissionFile {
  const broken = (why: string) => new IconError("CONFIG", `admission file ${path} is unreadable: ${why}`, 'Fix or delete it; "icon admission" rewrites it.');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw broken((e as Error).message);
  }
  const f = v as { mode?: unknown; owners?: unknown };
  if (!f || typeof f !== "object" || !Array.isArray(f.owners)) throw broken('it needs {"owners": [...]}');
  if (f.mode !== undefined && !(ADMISSION_MODES as readonly unknown[]).includes(f.mode)) throw broken(`mode ${JSON.stringify(f.mode)}`);
  const owners = f.owners.map((o: { key?: unknown; note?: unknown; addedAt?: unknown }) => {
    if (typeof o?.key !== "string" || !OWNER_KEY.test(o.key)) throw broken(`owner ${JSON.stringify(o?.key)} is not 64 hex digits`);
    return { key: o.key, ...(typeof o.note === "string" ? { note: o.note } : {}), addedAt: typeof o.addedAt === "string" ? o.addedAt : "" };
  });
  return { mode: f.mode as AdmissionMode | undefined, owners };
}
