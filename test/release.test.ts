/**
 * `bun build.ts --release` end to end: it builds the x64 binary into a temporary outdir, signs the
 * release with a throwaway key made here, and the result is checked by tools other than icon
 * (sha256sum, openssl) and by the built binary's own `icon verify-release`. About 5 s.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publicKeyText } from "../src/release/keys.ts";
import { ROOT_DIR } from "./support/needs.ts";
import { sh } from "./support/run.ts";

const work = mkdtempSync(join(tmpdir(), "icon-release-build-"));
const out = join(work, "out");
const release = join(out, "release");
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const pub = publicKeyText(publicKey);
const icon = (...args: string[]) => sh([join(out, "icon"), ...args]);

beforeAll(() => {
  writeFileSync(join(work, "release.key"), privateKey.export({ format: "pem", type: "pkcs8" }));
  const build = Bun.spawnSync([process.execPath, "build.ts", "--release", "--outdir", out], {
    cwd: ROOT_DIR,
    env: { ...process.env, ICON_RELEASE_KEY: join(work, "release.key") },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`build.ts --release failed: ${build.stderr}`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("bun build.ts --release", () => {
  test("writes the binary, SHA256SUMS that sha256sum accepts, and nothing else", () => {
    expect(readdirSync(release).sort()).toEqual(["SHA256SUMS", "SHA256SUMS.sig", "icon-linux-x64"]);
    const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: release, stdout: "pipe" });
    expect(check.stdout.toString()).toBe("icon-linux-x64: OK\n");
  });

  test.skipIf(!Bun.which("openssl"))("the signature verifies with openssl", () => {
    writeFileSync(join(work, "pub.pem"), publicKey.export({ format: "pem", type: "spki" }));
    writeFileSync(join(work, "sig.bin"), Buffer.from(readFileSync(join(release, "SHA256SUMS.sig"), "utf8"), "base64"));
    const v = sh(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", join(work, "pub.pem"), "-rawin", "-in", join(release, "SHA256SUMS"), "-sigfile", join(work, "sig.bin")]);
    expect(v.stdout.toString()).toContain("Signature Verified Successfully");
  });

  test("the built binary's verify-release accepts it with the signing key and refuses it with the project's", () => {
    const ok = icon("verify-release", release, "--public-key", pub, "--json");
    expect(ok.exitCode).toBe(0);
    const report = JSON.parse(ok.stdout.toString());
    expect(report.publicKey).toBe(pub);
    expect(report.projectKey).toBe(false);
    expect(report.files.map((f: { name: string }) => f.name)).toEqual(["icon-linux-x64"]);

    const wrongKey = icon("verify-release", release);
    expect(wrongKey.exitCode).toBe(7);
    expect(wrongKey.stderr.toString()).toContain("is not a signature of SHA256SUMS");
  });

  test("a flipped byte in the binary fails with exit 7 naming it", () => {
    const path = join(release, "icon-linux-x64");
    const bytes = readFileSync(path);
    const mid = bytes.length >> 1;
    bytes[mid] = bytes[mid]! ^ 0x40;
    writeFileSync(path, bytes);
    const r = icon("verify-release", release, "--public-key", pub, "--json");
    expect(r.exitCode).toBe(7);
    const err = JSON.parse(r.stderr.toString());
    expect(err.code).toBe("UNAUTHORIZED");
    expect(err.error).toContain("icon-linux-x64 differs from SHA256SUMS");
  });
});
