import { resolveConfig } from "../../config/resolve.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "runtime build",
  usage: "icon runtime build [--repo NAME] [--data-dir DIR] [--json]",
  description:
    "Builds icon-runtime:<version> and icon-runtime:latest FROM scratch with no registry: this executable\n" +
    "(run as a plain Bun through BUN_BE_BUN=1), the glibc files it links, and the runtime library importable\n" +
    "as \"icon-runtime\". An ICON's whole Dockerfile can then be:\n" +
    "  FROM icon-runtime:<version>\n  COPY server.ts /app/server.ts\n  CMD [\"/app/server.ts\"]\n" +
    "Docker is reached on the dockerSocket setting (config file, ICON_DOCKER_SOCKET).",
  options: { ...DATA_DIR_OPTION, repo: { type: "string", arg: "NAME", doc: "Image repository name (default icon-runtime)." }, ...JSON_OPTION },
  async run({ values, out }) {
    const { config } = await resolveConfig({ flags: { dataDir: values["data-dir"] } });
    const { createDockerEngine } = await import("../../engine/docker-engine.ts");
    const { buildRuntimeImage } = await import("../../yard/runtime-image.ts");
    const engine = await createDockerEngine(config.dockerSocket);
    out.info("building the icon-runtime image...");
    const r = await buildRuntimeImage(engine, {
      repo: values.repo,
      onProgress: (e) => out.progress(e, e.type === "files" ? `from ${e.executable} (${((e.bytes as number) / 1e6).toFixed(1)} MB) and ${(e.libraries as string[]).length} libraries` : undefined),
    });
    out.data(r, () => `built ${r.tags.join(" and ")}: ${(r.sizeBytes / 1e6).toFixed(1)} MB, one layer ${r.diffId.slice(0, 19)}, in ${(r.ms / 1000).toFixed(1)} s`);
  },
});
