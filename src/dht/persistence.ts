/**
 * What the DHT keeps in the data dir between runs (`dht.json`, mode 0600): the node id it belongs to, the
 * port it last bound, its best contacts (the thesis's DHT saved them too, and rejoins through them without
 * a --bootstrap), and its own published records so that it republishes them after a restart. Written to a
 * temporary file and renamed, so a kill -9 mid-write leaves the previous state whole. A damaged file is
 * reported and ignored: the node then joins through --bootstrap alone.
 */
import { randomBytes } from "node:crypto";
import { chmod, rename, rm, writeFile } from "node:fs/promises";
import type { Endpoint } from "./codec.ts";
import { fromHex, type Id } from "./id.ts";
import { isRecordKind, type RecordKind } from "./record.ts";
import { isContactAddress } from "./wire.ts";
import { toHex } from "../util/hex.ts";

export interface SavedContact extends Endpoint {
  id: Id;
}

/** An own record as saved: a value's bytes or an announcement's fields. */
export interface SavedRecord {
  kind: RecordKind;
  name: string;
  ttlMs: number;
  value?: string; // base64
  fields?: Record<string, unknown>;
}

export interface DhtState {
  nodeId: string;
  port: number;
  contacts: SavedContact[];
  published: SavedRecord[];
}

export async function saveState(path: string, state: DhtState): Promise<void> {
  const json = {
    version: 1,
    nodeId: state.nodeId,
    port: state.port,
    savedAt: new Date().toISOString(),
    contacts: state.contacts.map((c) => ({ id: toHex(c.id), address: c.address, port: c.port })),
    published: state.published,
  };
  // A name of its own per write: two overlapping saves sharing one renamed each other's file away (issue 13).
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(json) + "\n", { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Reads the state; undefined when there is none. Throws with the reason when the file is damaged. */
export async function loadState(path: string): Promise<DhtState | undefined> {
  const file = Bun.file(path);
  if (!(await file.exists())) return undefined;
  const raw = JSON.parse(await file.text()) as Record<string, unknown>;
  if (raw.version !== 1 || typeof raw.nodeId !== "string") throw new Error("not a version 1 DHT state file");
  const contacts: SavedContact[] = [];
  for (const c of Array.isArray(raw.contacts) ? raw.contacts : []) {
    const o = c as { id?: unknown; address?: unknown; port?: unknown };
    if (typeof o.id !== "string" || typeof o.address !== "string" || typeof o.port !== "number") continue;
    if (!/^[0-9a-f]{40}$/.test(o.id) || !isContactAddress(o.address) || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) continue;
    contacts.push({ id: fromHex(o.id), address: o.address, port: o.port });
  }
  const published: SavedRecord[] = [];
  for (const r of Array.isArray(raw.published) ? raw.published : []) {
    const o = r as Partial<SavedRecord>;
    if (typeof o.kind !== "number" || !isRecordKind(o.kind) || typeof o.name !== "string" || typeof o.ttlMs !== "number") continue;
    published.push({ kind: o.kind, name: o.name, ttlMs: o.ttlMs, value: typeof o.value === "string" ? o.value : undefined, fields: o.fields && typeof o.fields === "object" ? o.fields : undefined });
  }
  const port = typeof raw.port === "number" && Number.isInteger(raw.port) ? raw.port : 0;
  return { nodeId: raw.nodeId, port, contacts, published };
}
