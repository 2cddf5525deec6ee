/**
 * SHA256SUMS in the format of GNU `sha256sum` ("<hex>  <name>" per line), so `sha256sum -c SHA256SUMS`
 * checks a release without icon. Names are plain file names: a release is one flat directory.
 */
import { IconError } from "../errors.ts";

export const SUMS_FILE = "SHA256SUMS";
export const SIGNATURE_FILE = "SHA256SUMS.sig";

export interface SumEntry {
  name: string;
  sha256: string;
}

/** A file's SHA-256 in hex, read as a stream (release binaries are over 100 MB). */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

export function isPlainName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !/[\0-\x1f]/.test(name);
}

export function formatSums(entries: SumEntry[]): string {
  return [...entries].sort((a, b) => a.name.localeCompare(b.name)).map((e) => `${e.sha256}  ${e.name}\n`).join("");
}

export function parseSums(text: string): SumEntry[] {
  const entries: SumEntry[] = [];
  const bad = (line: number, why: string) =>
    new IconError("INVALID_INPUT", `${SUMS_FILE} line ${line}: ${why}`, "Download the release again; the list is damaged.");
  text.split("\n").forEach((line, i) => {
    if (line === "") return;
    // "  " marks text mode and " *" binary mode in sha256sum's output; both name the same bytes.
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw bad(i + 1, "expected \"<64 hex digits>  <file name>\"");
    const name = m[2]!;
    if (!isPlainName(name)) throw bad(i + 1, `"${name}" is not a plain file name`);
    if (entries.some((e) => e.name === name)) throw bad(i + 1, `${name} is listed twice`);
    entries.push({ name, sha256: m[1]! });
  });
  if (entries.length === 0) throw new IconError("INVALID_INPUT", `${SUMS_FILE} lists no files`, "Download the release again; the list is empty.");
  return entries;
}
