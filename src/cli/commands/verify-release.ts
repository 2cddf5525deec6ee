import { resolve } from "node:path";
import { RELEASE_PUBLIC_KEY, parsePublicKey, publicKeyArg } from "../../release/keys.ts";
import { verifyRelease } from "../../release/verify.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";

export const command = defineCommand({
  name: "verify-release",
  usage: "icon verify-release DIR [--public-key KEY] [--json]",
  description:
    "DIR holds the release: the binaries, SHA256SUMS and SHA256SUMS.sig. The ed25519 signature over\n" +
    "SHA256SUMS is checked first, against the project's release key built into this binary unless\n" +
    "--public-key is given; then every listed file's SHA-256. A listed file that is missing or a file\n" +
    "that is not listed fails too. Exit status: 0 verified, 7 bad signature or altered file, 1 missing\n" +
    "file, 6 unlisted file or damaged list.\n" +
    `JSON: {dir, publicKey, projectKey, files: [{name, sha256}]}. The project's key: ${RELEASE_PUBLIC_KEY}`,
  options: {
    "public-key": { type: "string", arg: "KEY", doc: "ed25519 public key (base64 of 32 bytes, or a PEM file) instead of the project's." },
    ...JSON_OPTION,
  },
  positionals: [1, 1],
  examples: ["icon verify-release ./icon-0.2.0", "icon verify-release dist/release --public-key ./test-release.pub --json"],
  async run({ values, positionals, out }) {
    const given = values["public-key"];
    const key = given === undefined ? parsePublicKey(RELEASE_PUBLIC_KEY) : publicKeyArg(given);
    const release = await verifyRelease(resolve(positionals[0]!), key);
    const projectKey = release.publicKey === RELEASE_PUBLIC_KEY;
    out.data({ ...release, projectKey }, () =>
      `${table(["file", "sha256"], release.files.map((f) => [f.name, f.sha256]))}\n` +
      `verified: signed by ${projectKey ? "the project's release key" : "key"} ${release.publicKey}`);
  },
});
