/**
 * Finding 1 of issue 12, "tag hijack on the user's Docker", from the engine's side. A peer with a fresh
 * key (a real peer, built from the project's peer code) offers a node an image whose repoTags name the
 * operator's own tag. `docker load` moves an existing tag, so a node that loads peers' images into the
 * operator's engine hands the operator's tag to the attacker. The node must never load into the
 * operator's engine at all: whatever it does with the offer, the operator's tag stays where it was and
 * the attacker's image never appears there. Root, Docker and the binary.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Readable } from "node:stream";
import { createDockerEngine } from "../../src/engine/docker-engine.ts";
import type { ContainerEngine } from "../../src/engine/container-engine.ts";
import { offerTaggedImage, tagOutcome } from "../../src/bench/hostile/user-engine-tags.ts";
import type { PeerNetwork } from "../../src/peer/network.ts";
import { tarStream } from "../../src/util/tar.ts";
import { describeWith } from "../support/needs.ts";
import { attackedNodes, USER_ENGINE_SOCKET } from "./support/engine-node.ts";

const VICTIM = "icontest-hostile-victim:latest";
const EVIL = "icontest-hostile-evil:latest";

async function tinyImage(engine: ContainerEngine, repo: string, tag: string, text: string): Promise<string> {
  const rootfs = tarStream([{ path: "note.txt", type: "file", mode: 0o644, data: text }]);
  return engine.importImage(rootfs, { repo, tag, changes: ['CMD ["/none"]'] });
}

async function drain(stream: Readable): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c as Uint8Array);
  return Buffer.concat(chunks);
}

describeWith(["root", "docker", "binary"], "hostile 01: a peer's image never reaches the operator's engine", () => {
  const nodes = attackedNodes();
  let user: ContainerEngine;
  let attacker: PeerNetwork | undefined;
  let victimId = "";
  let archive: Uint8Array;

  beforeAll(async () => {
    user = await createDockerEngine(USER_ENGINE_SOCKET);
    victimId = await tinyImage(user, "icontest-hostile-victim", "latest", "the operator's own image\n");
    // The attacker's image exists only in the attacker's hands: saved, then removed from this engine.
    const evil = await tinyImage(user, "icontest-hostile-evil", "latest", `an attacker's image ${process.pid} ${Date.now()}\n`);
    // Saved by id, the archive names no tag of its own: the offer's tags are what the target loads.
    archive = await drain(await user.saveImages([evil]));
    await user.removeImage(EVIL, { force: true });
  }, 60_000);

  afterAll(async () => {
    await attacker?.stop();
    await nodes.close();
    await user.removeImage(VICTIM, { force: true }).catch(() => {});
  }, 120_000);

  test("an offer claiming the operator's tag leaves that tag and the operator's engine untouched", async () => {
    const node = await nodes.start("target");
    const st = await node.status();
    const sent = await offerTaggedImage({ target: { nodeId: st.nodeId, address: "127.0.0.1", port: st.peerPort }, archive, claimTags: [VICTIM] });
    attacker = sent.attacker;
    const own = st.engine?.socket ? await createDockerEngine(st.engine.socket) : undefined;
    // The node fetches an offered image in the background: wait until it lands somewhere (or 15 s).
    for (let i = 0; i < 150; i++) {
      if ((await user.inspectImage(sent.imageId)) || (own && (await own.inspectImage(sent.imageId)))) break;
      await Bun.sleep(100);
    }
    expect((await user.inspectImage(VICTIM))?.id).toBe(victimId);
    expect(await user.inspectImage(sent.imageId)).toBeUndefined();
    expect(await tagOutcome(user, { tag: VICTIM, ownerId: victimId, imageId: sent.imageId })).toBe("contained");
  }, 60_000);

  test("a node's own engine leaves the operator's interfaces and Docker networks as they were (docker0 included)", async () => {
    const links = () => Bun.spawnSync(["ip", "-o", "link", "show"]).stdout.toString().split("\n").map((l) => l.split(":")[1]?.trim().split("@")[0]).filter((n) => n && !n.startsWith("veth") && !n.startsWith("icon-")).sort();
    const networks = () => Bun.spawnSync(["docker", "network", "ls", "-q", "--no-trunc"]).stdout.toString().trim();
    const before = { links: links(), networks: networks() };
    expect(before.links).toContain("docker0");
    const node = await nodes.start("bystander");
    expect((await node.status()).engine).toMatchObject({ mode: "own" });
    expect({ links: links(), networks: networks() }).toEqual(before);
    await node.stop();
    expect({ links: links(), networks: networks() }).toEqual(before);
  }, 60_000);
});
