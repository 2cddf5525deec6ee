import { expect, test } from "bun:test";
import { SCHEMA, type Config } from "../config/schema.ts";
import type { ImageInfo } from "../engine/container-engine.ts";
import { nameFromImage, newRecord } from "./new-record.ts";

const config = Object.fromEntries(Object.entries(SCHEMA).map(([k, v]) => [k, v.default])) as unknown as Config;
const image = (labels: Record<string, string> = {}, volumes: string[] = []): ImageInfo => ({ id: "sha256:1", repoTags: [], diffIds: [], size: 1, user: "", created: "", labels, volumes });

test("a new record takes config defaults, the chosen user and the image's volumes", () => {
  const r = newRecord({ image: "x:1" }, "x", 20000, image({}, ["/data"]), config, "1000:1000");
  expect(r).toMatchObject({ name: "x", port: 20000, role: "root", user: "1000:1000", volumes: ["/data"], limits: { memoryBytes: 256 * 2 ** 20, cpus: 1, pids: 256 } });
});

test("a request the yard cannot run is INVALID_INPUT naming the field, with a fix", () => {
  const run = (over: object) => () => newRecord({ image: "x:1", ...over }, "x", 1, image(), config, "");
  expect(run({ env: { ICON_PORT: "1" } })).toThrow("ICON_* variables are set by the node");
  expect(run({ env: { "BAD-NAME": "1" } })).toThrow("not a valid environment variable");
  expect(run({ memory: "1k" })).toThrow("at least 6m");
  expect(run({ memory: "lots" })).toThrow("at least 6m");
  expect(run({ cpus: 999 })).toThrow("this host's CPUs");
  expect(run({ pids: 2 })).toThrow("pids 2 is below 16");
  const err = (() => {
    try {
      run({ cpus: 999 })();
    } catch (e) {
      return e;
    }
  })();
  expect(err).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(/^cpus 999 /), fix: expect.stringContaining("Ask for at most") });
});

test("an ICON's policy can come from its image's labels; wrong ones are refused with a fix", () => {
  const labels = { "icon.policy.minRttGainMs": "20", "icon.policy.maxReplicas": "4", "icon.policy.prefetch": "false", "org.other": "x" };
  expect(newRecord({ image: "x:1" }, "x", 1, image(labels), config, "").policy).toEqual({ minRttGainMs: 20, maxReplicas: 4, prefetch: false });
  expect(() => newRecord({ image: "x:1" }, "x", 1, image({ "icon.policy.maxReplicas": "many" }), config, "")).toThrow(/labels are wrong: policy.maxReplicas must be a number/);
  expect(() => newRecord({ image: "x:1" }, "x", 1, image({ "icon.policy.speed": "1" }), config, "")).toThrow(/unknown policy field "speed"/);
});

test("names come from the image and avoid taken ones", () => {
  const taken = new Set(["hello-icon"]);
  expect(nameFromImage("reg.local/hello-icon:1", (n) => taken.has(n))).toBe("hello-icon-2");
  expect(nameFromImage("Web_App@sha256:abc", () => false)).toBe("web_app");
});
