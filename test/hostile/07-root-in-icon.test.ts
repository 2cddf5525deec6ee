/**
 * Finding 7 of issue 12, "uid 0 slips through". An image's USER may spell root in ways a plain check
 * misses (`root:root`, `root:0`, `00`, or a name that the image's own /etc/passwd maps to uid 0), and
 * an anonymous VOLUME gets disk with no bound. The attack runs such images as ICONs and reports the uid
 * of the ICON's process on the host, whether it can create files or symlinks in its socket directory
 * (to fill the disk, or to have the node chmod through a link), and how much it can write into its
 * volume. Root inside an ICON must never be root on the host. Root, Docker and the binary.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createDockerEngine } from "../../src/engine/docker-engine.ts";
import { buildProbeImage, removeProbe } from "../../src/bench/hostile/probe-icon.ts";
import { rootInIcon } from "../../src/bench/hostile/root-in-icon.ts";
import { describeWith } from "../support/needs.ts";
import { cli } from "../support/run.ts";
import { attackedNodes, USER_ENGINE_SOCKET } from "./support/engine-node.ts";

const PASSWD_ROOT_ALIAS = "root:x:0:0:root:/tmp:/sbin/nologin\nadmin:x:0:0:admin:/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n";
const VARIANTS = [
  { tag: "icontest-hostile-root:a", user: "root:root", volumes: ["/data"] },
  { tag: "icontest-hostile-root:b", user: "root:0" },
  { tag: "icontest-hostile-root:c", user: "00" },
  { tag: "icontest-hostile-root:d", user: "admin", passwd: PASSWD_ROOT_ALIAS },
];

describeWith(["root", "docker", "binary"], "hostile 07: root inside an ICON is not root on the host", () => {
  const nodes = attackedNodes();

  beforeAll(async () => {
    const built = cli("runtime", "build", "--json");
    if (built.exitCode !== 0) throw new Error(`runtime build: ${built.stderr}`);
    const engine = await createDockerEngine(USER_ENGINE_SOCKET);
    for (const v of VARIANTS) await buildProbeImage(engine, v);
  }, 180_000);

  afterAll(async () => {
    await nodes.close();
    Bun.spawnSync(["docker", "rmi", ...VARIANTS.map((v) => v.tag)]);
  }, 120_000);

  test("every spelling of root, on the node's own engine: not host root, socket directory closed, volumes bounded", async () => {
    const node = await nodes.start("own");
    const engine = await node.engine();
    for (const [i, v] of VARIANTS.entries()) {
      const r = await rootInIcon(node.api, engine, { image: v.tag, name: `root-${i}`, volumes: v.volumes });
      expect({ user: v.user, breaches: r.breaches }).toEqual({ user: v.user, breaches: [] });
      expect(r.hostUid).not.toBe(0);
      expect(r.report.socketDirWrite).toBe("EACCES");
      expect(r.report.socketDirSymlink).toBe("EACCES");
      if (v.volumes) expect(r.report.fills["/data"]).toMatchObject({ fs: "tmpfs", error: "ENOSPC" });
      await removeProbe(node.api, `root-${i}`);
    }
  }, 300_000);

  test("on an external engine (no user namespace) every spelling of root runs as nobody instead", async () => {
    const node = await nodes.start("external", { env: { ICON_ENGINE: "external" } });
    const engine = await node.engine();
    for (const [i, v] of VARIANTS.entries()) {
      const r = await rootInIcon(node.api, engine, { image: v.tag, name: `ext-${i}` });
      expect({ user: v.user, uid: r.report.uid, hostUid: r.hostUid }).toEqual({ user: v.user, uid: 65534, hostUid: 65534 });
      expect(r.breaches).toEqual([]);
      await removeProbe(node.api, `ext-${i}`);
    }
  }, 300_000);
});
