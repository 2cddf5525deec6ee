/**
 * Signs a release directory: SHA256SUMS lists every file's hash, SHA256SUMS.sig is the base64 ed25519
 * signature of SHA256SUMS's bytes. Signing the list rather than each binary keeps one signature to check.
 */
import { sign, type KeyObject } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { SIGNATURE_FILE, SUMS_FILE, formatSums, sha256File, type SumEntry } from "./sums.ts";

export async function signRelease(dir: string, key: KeyObject): Promise<SumEntry[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && d.name !== SUMS_FILE && d.name !== SIGNATURE_FILE)
    .map((d) => d.name);
  const entries: SumEntry[] = [];
  for (const name of names) entries.push({ name, sha256: await sha256File(join(dir, name)) });
  const sums = formatSums(entries);
  await Bun.write(join(dir, SUMS_FILE), sums);
  await Bun.write(join(dir, SIGNATURE_FILE), sign(null, Buffer.from(sums), key).toString("base64") + "\n");
  return entries;
}
