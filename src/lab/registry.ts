/**
 * A Docker registry on a testbed host, to compare with the thesis's IPO, whose orchestrator pulled ICON
 * images from a registry (thesis 4.1): Debian's `docker-registry` (distribution 2.8, plain HTTP, no auth)
 * in the origin's namespace, storing under a temporary directory. The origin's engine pushes the app
 * image there; the nodes run with the setting `registry` so their engines trust it and the edge pulls
 * replicas' images from it instead of from the origin.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { closeSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import { address, inHost, type TestbedStatus } from "../testbed/index.ts";

export const REGISTRY_PORT = 5000;
const BINARY = "docker-registry";

export class LabRegistry {
  private constructor(
    /** HOST:PORT, as nodes and image names use it. */
    readonly endpoint: string,
    private readonly proc: ReturnType<typeof Bun.spawn>,
    private readonly dir: string,
  ) {}

  static async start(st: TestbedStatus, host: string): Promise<LabRegistry> {
    if (!Bun.which(BINARY)) throw new IconError("NOT_FOUND", `${BINARY} is not installed`, "Install Debian's docker-registry package (scripts/setup.sh does).");
    const dir = await mkdtemp(join(tmpdir(), "icon-lab-registry-"));
    const endpoint = `${address(st, host)}:${REGISTRY_PORT}`;
    const config = join(dir, "config.yml");
    await Bun.write(config, `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: ${endpoint}\n`);
    const logPath = join(dir, "registry.log");
    const log = openSync(logPath, "a");
    const proc = Bun.spawn(inHost(st, host, [BINARY, "serve", config]), { stdout: log, stderr: log });
    closeSync(log);
    const reg = new LabRegistry(endpoint, proc, dir);
    for (let i = 0; i < 100; i++) {
      if ((await Bun.file(logPath).text()).includes("listening on")) return reg;
      if (proc.exitCode !== null) break;
      await Bun.sleep(50);
    }
    const text = await Bun.file(logPath).text();
    await reg.stop();
    throw new IconError("FAILED", `${BINARY} did not start in ${host}: ${text.trim().split("\n").slice(-5).join("\n")}`);
  }

  /** The name of `image` (repo:tag) in this registry. */
  nameOf(image: string): string {
    return `${this.endpoint}/${image}`;
  }

  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    await this.proc.exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}
