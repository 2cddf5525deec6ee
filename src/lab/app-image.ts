/**
 * The sample ICON of the demo and the migration benchmark (examples/migrate-app) as a Docker image,
 * built on a given engine FROM the icon-runtime base. Its server is bundled with Hono into one file: by
 * build.ts into the compiled binary (an embedded asset), or here with Bun.build when run from source.
 */
import { join } from "node:path";
import { IconError } from "../errors.ts";
import type { ContainerEngine } from "../engine/container-engine.ts";
import { runtimeTag, RUNTIME_REPO } from "../yard/runtime-image.ts";
import { tarStream } from "../util/tar.ts";

export const APP_REPO = "icon-migrate-app";
export const APP_ASSET = "migrate-app.js";
export const APP_SOURCE = join(import.meta.dir, "../../examples/migrate-app/server.ts");

/** The sample server as one JavaScript file with everything but icon-runtime inlined. */
export async function appBundle(): Promise<string> {
  const embedded = Bun.embeddedFiles.find((f) => (f as File).name.endsWith(APP_ASSET));
  if (embedded) return embedded.text();
  if (!(await Bun.file(APP_SOURCE).exists()))
    throw new IconError("NOT_FOUND", `the sample ICON's source ${APP_SOURCE} is missing and this binary has none embedded`, "Build the binary with build.ts, which embeds it.");
  const out = await Bun.build({ entrypoints: [APP_SOURCE], target: "bun", external: ["icon-runtime"], minify: true });
  if (!out.success || !out.outputs[0]) throw new IconError("FAILED", `bundling the sample ICON failed: ${out.logs.map((l) => l.message).join("; ")}`);
  return out.outputs[0].text();
}

/** Builds `icon-migrate-app:<version>` FROM `icon-runtime:<version>` on `engine`; returns the tag. */
export async function buildAppImage(engine: ContainerEngine, onLine?: (line: string) => void): Promise<string> {
  const tag = `${APP_REPO}:${runtimeTag()}`;
  const base = `${RUNTIME_REPO}:${runtimeTag()}`;
  if (!(await engine.inspectImage(base))) throw new IconError("NOT_FOUND", `the base image ${base} is missing on this engine`, "Build it first: icon runtime build.");
  const dockerfile = `FROM ${base}\nCOPY server.js /app/server.js\nCMD ["/app/server.js"]\n`;
  const context = tarStream([
    { path: "Dockerfile", type: "file", mode: 0o644, data: dockerfile },
    { path: "server.js", type: "file", mode: 0o644, data: await appBundle() },
  ]);
  await engine.buildImage(context, { tags: [tag] }, onLine);
  return tag;
}
