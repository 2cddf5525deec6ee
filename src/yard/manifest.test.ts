import { describe, expect, test } from "bun:test";
import { generateIdentity } from "../identity/identity.ts";
import { toHex } from "../util/hex.ts";
import { canonicalJson, checkAgainstManifest, checkManifest, envDigest, signManifest } from "./manifest.ts";

const IMAGE = `sha256:${"ab".repeat(32)}`;
const owner = generateIdentity();
const signed = () => signManifest(owner, { name: "web", imageId: IMAGE, env: { B: "2", A: "1" }, policy: { maxReplicas: 3, prefetch: false } });

describe("owner manifests", () => {
  test("canonical JSON sorts keys at every level, so equal values give equal bytes and digests", () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: "x" })).toBe('{"a":"x","b":[{"c":2,"d":1}]}');
    expect(envDigest({ A: "1", B: "2" })).toBe(envDigest({ B: "2", A: "1" }));
    expect(envDigest({ A: "1" })).not.toBe(envDigest({ A: "2" }));
    expect(envDigest({})).toMatch(/^[0-9a-f]{64}$/);
  });

  test("a signed manifest checks out, carrying its owner's key", () => {
    const m = signed();
    expect(checkManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(m.owner).toBe(toHex(owner.publicKey));
    expect(() => checkAgainstManifest(m, IMAGE, { A: "1", B: "2" })).not.toThrow();
  });

  test("changing any signed field, or signing with another key, breaks the signature", () => {
    const m = signed();
    const changes = [{ name: "other" }, { imageId: `sha256:${"cd".repeat(32)}` }, { envDigest: envDigest({}) }, { policy: { maxReplicas: 4, prefetch: false } }, { createdAt: new Date(0).toISOString() }, { owner: toHex(generateIdentity().publicKey) }];
    for (const change of changes) expect(() => checkManifest({ ...m, ...change })).toThrow(expect.objectContaining({ code: "UNAUTHORIZED" }));
  });

  test("malformed manifests are INVALID_INPUT, saying which field", () => {
    const m = signed();
    expect(() => checkManifest(undefined)).toThrow(expect.objectContaining({ code: "INVALID_INPUT" }));
    expect(() => checkManifest({ ...m, v: 2 })).toThrow("version 2");
    expect(() => checkManifest({ ...m, sig: "00" })).toThrow("sig");
    expect(() => checkManifest({ ...m, policy: { nope: 1 } })).toThrow('unknown policy field "nope"');
  });

  test("a request must run the signed image with the signed env", () => {
    const m = signed();
    expect(() => checkAgainstManifest(m, `sha256:${"cd".repeat(32)}`, { A: "1", B: "2" })).toThrow("is not the image");
    expect(() => checkAgainstManifest(m, IMAGE, { A: "1", B: "2", C: "3" })).toThrow("env is not the env its owner signed");
  });
});
