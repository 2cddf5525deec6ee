/**
 * Release signing keys: ed25519. The project's public key is compiled into the binary (and printed in the
 * README) so `icon verify-release` needs no key given; its private key never enters the repository.
 * Public keys are written as base64 of the raw 32 bytes (short enough to paste); PEM is accepted too.
 * Private keys are PEM PKCS#8 files, as `openssl genpkey -algorithm ed25519` writes them.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { IconError } from "../errors.ts";

/** The project's release public key (base64, raw ed25519). */
export const RELEASE_PUBLIC_KEY = "dho9QdO3cDG0XtkobdDh0SCe/MxYQ4XZMEi9LI3qCkQ=";

/** Base64 of a key's raw 32 public bytes. */
export function publicKeyText(key: KeyObject): string {
  const jwk = (key.type === "public" ? key : createPublicKey(key)).export({ format: "jwk" });
  return Buffer.from(jwk.x!, "base64url").toString("base64");
}

/** A public key from base64 of its raw 32 bytes, or from PEM (SubjectPublicKeyInfo). */
export function parsePublicKey(text: string): KeyObject {
  const t = text.trim();
  const fix = "Give the base64 ed25519 public key printed in the README, or a PEM file holding one.";
  let key: KeyObject;
  try {
    if (t.startsWith("-----BEGIN")) key = createPublicKey(t);
    else {
      const raw = Buffer.from(t, "base64");
      if (raw.length !== 32 || raw.toString("base64") !== t) throw new Error("not base64 of 32 bytes");
      key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
    }
  } catch (e) {
    throw new IconError("INVALID_INPUT", `not an ed25519 public key: ${(e as Error).message}`, fix);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new IconError("INVALID_INPUT", `the public key is ${key.asymmetricKeyType}, not ed25519`, fix);
  return key;
}

/** `--public-key KEY`: the key itself, or a file holding it. */
export function publicKeyArg(value: string): KeyObject {
  let text = value;
  try {
    text = readFileSync(value, "utf8");
  } catch {} // not a readable file: the value is the key
  return parsePublicKey(text);
}

/** The signing key from a PEM PKCS#8 file. */
export function loadSigningKey(path: string): KeyObject {
  const fix = "Give --sign-key FILE or $ICON_RELEASE_KEY: a PEM ed25519 private key (openssl genpkey -algorithm ed25519 -out FILE).";
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (e) {
    throw new IconError("NOT_FOUND", `cannot read the signing key ${path}: ${(e as Error).message}`, fix);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new IconError("INVALID_INPUT", `${path} is not a PEM private key: ${(e as Error).message}`, fix);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new IconError("INVALID_INPUT", `${path} holds a ${key.asymmetricKeyType} key, not ed25519`, fix);
  return key;
}
