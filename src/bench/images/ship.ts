/**
 * Time from request to image loaded, for one large layer, between two processes: on loopback (one
 * Docker engine plays both sides), or across the thesis network from IEP1 to IEP2 (their own engines;
 * the path's bottleneck is the 10 Mbit/s r5-r6 link, RTT 102 ms). Each side is `icon bench images-peer`.
 */
import { IconError } from "../../errors.ts";
import { peerTag } from "../../images/archive.ts";
import type { ContainerEngine } from "../../engine/container-engine.ts";
import { address, copyImage, dockerSocket, down, inHost, thesisTopology, up } from "../../testbed/index.ts";
import { selfCommand } from "../../testbed/self.ts";
import { lines } from "../../util/lines.ts";
import { BENCH_IMAGE } from "./layer.ts";
import type { ShipSample } from "./peer.ts";

export interface ShipReport {
  path: string;
  samples: ShipSample[];
  medianMs: number;
}

export const TESTBED = "bench-images";

/** Starts a peer process, returning it and its JSON lines as they come. */
function spawnPeer(cmd: string[]) {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const out = lines(proc.stdout as ReadableStream<Uint8Array>)[Symbol.asyncIterator]();
  const next = async (what: string): Promise<Record<string, unknown>> => {
    const r = await out.next();
    if (r.done) throw new IconError("FAILED", `the ${what} process ended early: ${(await new Response(proc.stderr as ReadableStream).text()).trim().slice(-2000)}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  return { proc, next };
}

async function measure(o: { wrap: (host: string, cmd: string[]) => string[]; sourceHost: string; targetHost: string; sourceSocket: string; targetSocket: string; sourceAddress: string; targetAddress: string; image: { id: string; diffIds: string[] }; iterations: number; path: string }): Promise<ShipReport> {
  const source = spawnPeer(o.wrap(o.sourceHost, selfCommand(["bench", "images-peer", "--role", "source", "--socket", o.sourceSocket, "--listen", o.sourceAddress, "--image", BENCH_IMAGE])));
  try {
    const ready = await source.next("source");
    const endpoint = { nodeId: String(ready.nodeId), address: o.sourceAddress, port: Number(ready.port) };
    const target = spawnPeer(o.wrap(o.targetHost, selfCommand([
      "bench", "images-peer", "--role", "target", "--socket", o.targetSocket, "--listen", o.targetAddress,
      "--source", `${endpoint.nodeId}@${endpoint.address}:${endpoint.port}`, "--image-id", o.image.id, "--diff-ids", o.image.diffIds.join(","), "--iterations", String(o.iterations),
    ])));
    const samples: ShipSample[] = [];
    for (let line = await target.next("target"); !line.done; line = await target.next("target")) samples.push(line.sample as ShipSample);
    await target.proc.exited;
    const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
    return { path: o.path, samples, medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0 };
  } finally {
    source.proc.kill("SIGTERM");
    await source.proc.exited;
  }
}

/** On loopback, one engine for both sides (the target drops the image before each fetch; the source serves from its store). */
export async function shipLoopback(engine: ContainerEngine, socket: string, image: { id: string; diffIds: string[] }, iterations: number): Promise<ShipReport> {
  try {
    return await measure({ wrap: (_h, cmd) => cmd, sourceHost: "", targetHost: "", sourceSocket: socket, targetSocket: socket, sourceAddress: "127.0.0.1", targetAddress: "127.0.0.1", image, iterations, path: "loopback" });
  } finally {
    // The target's copy came named icon.local/peer:<id> only: give it back its bench name, and only that.
    const [repo, tag] = BENCH_IMAGE.split(":") as [string, string];
    await engine.tagImage(image.id, repo, tag).catch(() => {});
    await engine.removeImage(peerTag(image.id)).catch(() => {});
  }
}

/** Across the thesis network, IEP1 to IEP2, each with its own engine; the testbed is brought up and down here. */
export async function shipThesisNetwork(main: ContainerEngine, image: { id: string; diffIds: string[] }, iterations: number, say: (m: string) => void): Promise<ShipReport> {
  if (!(await main.inspectImage(BENCH_IMAGE))) throw new IconError("NOT_FOUND", `${BENCH_IMAGE} is missing`);
  say("bringing up the thesis network with per-host engines");
  const st = await up({ name: TESTBED, topology: thesisTopology(), docker: true, engines: true });
  try {
    await copyImage(BENCH_IMAGE, { to: dockerSocket(st, "IEP1") });
    return await measure({
      wrap: (host, cmd) => inHost(st, host, cmd), sourceHost: "IEP1", targetHost: "IEP2",
      sourceSocket: dockerSocket(st, "IEP1"), targetSocket: dockerSocket(st, "IEP2"), sourceAddress: address(st, "IEP1"), targetAddress: address(st, "IEP2"),
      image, iterations, path: "thesis network IEP1 -> IEP2 (10 Mbit/s bottleneck, RTT 102 ms)",
    });
  } finally {
    await down(TESTBED);
  }
}
