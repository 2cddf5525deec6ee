import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeWith } from "../../test/support/needs.ts";
import { docker } from "../../test/support/run.ts";
import { composeLoad, heldPrefix, parseSave, sha256, verifyParts } from "./archive.ts";
import { tarBytes } from "../util/tar.ts";

const BASE = "icon-test-images-base:1";
const APP = "icon-test-images-app:1";


test("heldPrefix counts only a shared chain from the base up", () => {
  expect(heldPrefix(["a", "b", "c"], [["a", "b", "x"], ["a"]])).toBe(2);
  expect(heldPrefix(["a", "b"], [["b", "a"]])).toBe(0);
  expect(heldPrefix(["a"], [])).toBe(0);
});

describeWith(["docker"], "image archives with a real Docker engine", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "icon-images-"));
    docker(["import", "-", BASE], await tarBytes([{ path: "base.txt", type: "file", mode: 0o644, data: "base layer ".repeat(1000) }]));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${BASE}\nCOPY app.txt /app.txt\n`);
    writeFileSync(join(dir, "app.txt"), "application layer");
    docker(["build", "-q", "-t", APP, dir]);
  });
  afterAll(() => {
    Bun.spawnSync(["docker", "rmi", "-f", APP, BASE], { stdout: "ignore", stderr: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  });

  test("a save splits into verified config and layers; a partial archive loads onto the base", async () => {
    const parts = parseSave(docker(["save", APP]));
    const inspect = JSON.parse(new TextDecoder().decode(docker(["image", "inspect", APP])))[0];
    expect(parts.id).toBe(inspect.Id);
    expect(parts.diffIds).toEqual(inspect.RootFS.Layers);
    expect(parts.diffIds.length).toBe(2);
    expect(parts.repoTags).toEqual([APP]);

    // Ship only the application layer, as a cold migration to a daemon that holds the base does.
    const appLayer = parts.diffIds[1]!;
    const partial = { ...parts, layers: new Map([[appLayer, parts.layers.get(appLayer)!]]) };
    docker(["rmi", APP]);
    docker(["load", "-q"], await tarBytes(composeLoad(partial)));
    const loaded = JSON.parse(new TextDecoder().decode(docker(["image", "inspect", APP])))[0];
    expect(loaded.Id).toBe(parts.id);
  });

  test("a corrupted layer or config is rejected before it reaches Docker", () => {
    const parts = parseSave(docker(["save", APP]));
    const appLayer = parts.diffIds[1]!;
    const bad = parts.layers.get(appLayer)!.slice();
    bad[bad.length - 600] = bad[bad.length - 600]! ^ 0xff;
    expect(() => verifyParts({ ...parts, layers: new Map([[appLayer, bad]]) })).toThrow(/is corrupt/);
    const config = parts.config.slice();
    config[5] = config[5]! ^ 1;
    expect(() => verifyParts({ ...parts, config })).toThrow(/does not match image/);
    expect(sha256(parts.config)).toBe(parts.id);
  });
});
