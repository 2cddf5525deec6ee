import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import { RELEASE_PUBLIC_KEY, loadSigningKey, parsePublicKey, publicKeyText } from "./keys.ts";
import { signRelease } from "./sign.ts";
import { SIGNATURE_FILE, SUMS_FILE, parseSums } from "./sums.ts";
import { verifyRelease } from "./verify.ts";

let dir: string;
let key: KeyObject;

/** The error verifyRelease throws, or a test failure when it does not throw. */
async function refusal(k: KeyObject = key): Promise<IconError> {
  const e = await verifyRelease(dir, k).then(() => undefined, (err: unknown) => err);
  if (!(e instanceof IconError)) throw new Error(`expected an IconError, got ${String(e)}`);
  return e;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "icon-release-"));
  key = generateKeyPairSync("ed25519").privateKey;
  writeFileSync(join(dir, "icon-linux-x64"), "x64 binary bytes");
  writeFileSync(join(dir, "icon-linux-arm64"), "arm64 binary bytes");
  await signRelease(dir, key);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("a signed release", () => {
  test("verifies with its key and lists every file with its SHA-256", async () => {
    const r = await verifyRelease(dir, parsePublicKey(publicKeyText(key)));
    expect(r.publicKey).toBe(publicKeyText(key));
    expect(r.files.map((f) => f.name)).toEqual(["icon-linux-arm64", "icon-linux-x64"]);
    expect(r.files[1]!.sha256).toBe(new Bun.CryptoHasher("sha256").update("x64 binary bytes").digest("hex"));
  });

  test("a flipped byte in a binary fails, naming that file", async () => {
    const path = join(dir, "icon-linux-arm64");
    const bytes = readFileSync(path);
    bytes[3] = bytes[3]! ^ 1;
    writeFileSync(path, bytes);
    const e = await refusal();
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.message).toContain("icon-linux-arm64 differs");
    expect(e.message).not.toContain("icon-linux-x64");
  });

  test("a changed SHA256SUMS fails the signature", async () => {
    const sums = readFileSync(join(dir, SUMS_FILE), "utf8");
    writeFileSync(join(dir, SUMS_FILE), sums.replace(/^[0-9a-f]/, (c) => (c === "0" ? "1" : "0")));
    const e = await refusal();
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.message).toContain(`${SIGNATURE_FILE} is not a signature of ${SUMS_FILE}`);
  });

  test("another key fails the signature", async () => {
    const other = generateKeyPairSync("ed25519").publicKey;
    const e = await refusal(other);
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.message).toContain(publicKeyText(other));
  });

  test("a missing listed file and an unlisted extra file are refused", async () => {
    rmSync(join(dir, "icon-linux-x64"));
    let e = await refusal();
    expect(e.code).toBe("NOT_FOUND");
    expect(e.message).toContain("icon-linux-x64 is listed in SHA256SUMS but missing");
    await signRelease(dir, key);
    writeFileSync(join(dir, "notes.txt"), "not signed");
    e = await refusal();
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain("notes.txt is not listed");
  });

  test("a missing signature file is named", async () => {
    rmSync(join(dir, SIGNATURE_FILE));
    const e = await refusal();
    expect(e.code).toBe("NOT_FOUND");
    expect(e.message).toContain(`has no ${SIGNATURE_FILE}`);
  });

  test("a damaged list is refused even when its signature is good", async () => {
    appendFileSync(join(dir, SUMS_FILE), "not a checksum line\n");
    const sums = readFileSync(join(dir, SUMS_FILE));
    writeFileSync(join(dir, SIGNATURE_FILE), sign(null, sums, key).toString("base64"));
    const e = await refusal();
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain(`${SUMS_FILE} line 3`);
  });
});

describe("SHA256SUMS", () => {
  test("reads sha256sum's text and binary lines and refuses paths", () => {
    const h = "a".repeat(64);
    expect(parseSums(`${h}  one\n${h} *two\n`)).toEqual([{ name: "one", sha256: h }, { name: "two", sha256: h }]);
    expect(() => parseSums(`${h}  ../etc/passwd\n`)).toThrow("not a plain file name");
    expect(() => parseSums(`${h}  one\n${h}  one\n`)).toThrow("listed twice");
    expect(() => parseSums("")).toThrow("lists no files");
  });
});

describe("keys", () => {
  test("a public key reads from base64 and from PEM, and the project's key parses", () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    const b64 = publicKeyText(publicKey);
    expect(Buffer.from(b64, "base64").length).toBe(32);
    expect(publicKeyText(parsePublicKey(b64))).toBe(b64);
    expect(publicKeyText(parsePublicKey(publicKey.export({ format: "pem", type: "spki" }) as string))).toBe(b64);
    expect(publicKeyText(parsePublicKey(RELEASE_PUBLIC_KEY))).toBe(RELEASE_PUBLIC_KEY);
    expect(() => parsePublicKey("abc")).toThrow("not an ed25519 public key");
  });

  test("a signing key must be a readable PEM ed25519 key", () => {
    const path = join(dir, "k.pem");
    writeFileSync(path, key.export({ format: "pem", type: "pkcs8" }));
    expect(publicKeyText(loadSigningKey(path))).toBe(publicKeyText(key));
    writeFileSync(path, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }));
    expect(() => loadSigningKey(path)).toThrow("holds a ec key, not ed25519");
    expect(() => loadSigningKey(join(dir, "absent.pem"))).toThrow("cannot read the signing key");
  });
});
