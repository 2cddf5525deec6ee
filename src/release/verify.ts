/**
 * Checks a release directory: first the signature over SHA256SUMS (nothing in an unsigned list is
 * trusted), then every listed file's hash; a listed file that is missing, or a file that is not listed,
 * is refused too, so what is verified is exactly what is in the directory.
 */
import { verify, type KeyObject } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { IconError, type ErrorCode } from "../errors.ts";
import { publicKeyText } from "./keys.ts";
import { SIGNATURE_FILE, SUMS_FILE, parseSums, sha256File, type SumEntry } from "./sums.ts";

export interface VerifiedRelease {
  dir: string;
  publicKey: string;
  files: SumEntry[];
}

interface Problem {
  code: ErrorCode;
  text: string;
}

async function readRequired(dir: string, name: string): Promise<Buffer> {
  const file = Bun.file(join(dir, name));
  if (!(await file.exists())) throw new IconError("NOT_FOUND", `${dir} has no ${name}`, "A release directory holds the binaries, SHA256SUMS and SHA256SUMS.sig; download all of them.");
  return Buffer.from(await file.arrayBuffer());
}

export async function verifyRelease(dir: string, key: KeyObject): Promise<VerifiedRelease> {
  if (!(await stat(dir).catch(() => undefined))?.isDirectory())
    throw new IconError("NOT_FOUND", `${dir} is not a directory`, "Give the directory that holds the release's files.");
  const sums = await readRequired(dir, SUMS_FILE);
  const sigText = (await readRequired(dir, SIGNATURE_FILE)).toString("utf8").trim();
  const sig = Buffer.from(sigText, "base64");
  if (sig.length !== 64 || sig.toString("base64") !== sigText)
    throw new IconError("INVALID_INPUT", `${SIGNATURE_FILE} is not a base64 ed25519 signature`, "Download the release again; the signature file is damaged.");
  const publicKey = publicKeyText(key);
  if (!verify(null, sums, key, sig))
    throw new IconError("UNAUTHORIZED", `${SIGNATURE_FILE} is not a signature of ${SUMS_FILE} by key ${publicKey}: the list was changed after signing, or signed with another key`,
      "Do not run these files. Download the release again; if it was signed with another key you trust, pass that key with --public-key.");

  const entries = parseSums(sums.toString("utf8"));
  const problems: Problem[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    const st = await stat(path).catch(() => undefined);
    if (!st) problems.push({ code: "NOT_FOUND", text: `${e.name} is listed in ${SUMS_FILE} but missing` });
    else if (!st.isFile()) problems.push({ code: "INVALID_INPUT", text: `${e.name} is not a regular file` });
    else {
      const actual = await sha256File(path);
      if (actual !== e.sha256) problems.push({ code: "UNAUTHORIZED", text: `${e.name} differs from ${SUMS_FILE} (sha256 ${actual}, signed ${e.sha256})` });
    }
  }
  const listed = new Set([SUMS_FILE, SIGNATURE_FILE, ...entries.map((e) => e.name)]);
  for (const name of (await readdir(dir)).sort()) if (!listed.has(name)) problems.push({ code: "INVALID_INPUT", text: `${name} is not listed in ${SUMS_FILE}` });

  if (problems.length) {
    // The most serious code decides the exit status: altered content, then missing, then unexpected files.
    const code = (["UNAUTHORIZED", "NOT_FOUND", "INVALID_INPUT"] as const).find((c) => problems.some((p) => p.code === c))!;
    const fix = code === "INVALID_INPUT"
      ? `Remove files that are not part of the release from ${dir}, or download the release into an empty directory.`
      : "Do not run these files. Download the release again.";
    throw new IconError(code, `release ${dir} does not match its signed ${SUMS_FILE}: ${problems.map((p) => p.text).join("; ")}`, fix);
  }
  return { dir, publicKey, files: entries };
}
