/**
 * Nodes under attack for the engine findings (1, 6, 7): real `icon node start` processes from source,
 * in this machine's network namespace or in one the test made (entered with nsenter --net, never
 * `ip netns exec`, which remounts /sys and hides the cgroups a dockerd needs). Each has its own data
 * dir under a temporary root; `close` stops them, removes what their engines hold and the root.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answer, nodeAnswers, nodeClient, type NodeClient } from "../../../src/api/client.ts";
import { createDockerEngine } from "../../../src/engine/docker-engine.ts";
import type { ContainerEngine } from "../../../src/engine/container-engine.ts";
import { CLI, sh } from "../../support/run.ts";

export const USER_ENGINE_SOCKET = "/var/run/docker.sock";

export interface NodeStatusView {
  nodeId: string;
  peerPort: number;
  /** The engine the node runs ICONs on (absent on a node without an engine of its own). */
  engine?: { socket?: string };
}

export class AttackedNode {
  proc?: ReturnType<typeof Bun.spawn>;
  log = "";
  readonly api: NodeClient;

  constructor(readonly dir: string, readonly listen: string, readonly env: Record<string, string>, readonly netns?: string) {
    this.api = nodeClient(dir);
  }

  async start(): Promise<void> {
    const args = [...CLI, "node", "start", "--data-dir", this.dir, "--listen", this.listen, "--dht-port", "0", "--peer-port", "0"];
    const argv = this.netns ? ["nsenter", `--net=/run/netns/${this.netns}`, ...args] : args;
    this.proc = Bun.spawn(argv, { env: { ...process.env, NO_COLOR: "1", ...this.env }, stdout: "ignore", stderr: "pipe" });
    void (async () => {
      for await (const chunk of this.proc!.stderr as ReadableStream<Uint8Array>) this.log += new TextDecoder().decode(chunk);
    })();
    for (let i = 0; i < 1200; i++) {
      if (await nodeAnswers(this.dir)) return;
      if (this.proc.exitCode !== null) break;
      await Bun.sleep(50);
    }
    throw new Error(`the node in ${this.dir} did not start:\n${this.log}`);
  }

  status(): Promise<NodeStatusView> {
    return answer(this.api.v1.status.$get()) as Promise<NodeStatusView>;
  }

  /** The engine its ICONs run on: its own when it says so, else the operator's. */
  async engine(): Promise<ContainerEngine> {
    return createDockerEngine((await this.status()).engine?.socket ?? USER_ENGINE_SOCKET);
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill("SIGTERM");
    await Promise.race([this.proc.exited, Bun.sleep(40_000)]);
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

export function attackedNodes() {
  const root = mkdtempSync(join(tmpdir(), "icon-hostile-"));
  const nodes: AttackedNode[] = [];
  return {
    async start(name: string, o: { listen?: string; env?: Record<string, string>; netns?: string } = {}): Promise<AttackedNode> {
      const n = new AttackedNode(join(root, name), o.listen ?? "127.0.0.1", o.env ?? {}, o.netns);
      nodes.push(n);
      await n.start();
      return n;
    },
    /** Stops every node, then removes its engine (a command older nodes lack: then nothing to remove) and the data dirs. */
    async close(): Promise<void> {
      for (const n of nodes) {
        await n.stop();
        sh([...CLI, "engine", "rm", "--data-dir", n.dir]);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
