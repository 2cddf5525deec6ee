/**
 * What `icon bench hostile` sets up on the lab before it measures: the edge admits the origin's owner
 * only (unless told to stay open), the origin's engine gets the runtime base as the edge's has it (an
 * operator's image no ICON runs, for finding 9), each node puts a canary value in the DHT, the attacker's
 * probe images are built and saved, and the attacker's spec is written from what the nodes say.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { join } from "node:path";
import { answer, readStream } from "../../api/client.ts";
import { copyImage } from "../../engine/copy-image.ts";
import type { ContainerEngine } from "../../engine/container-engine.ts";
import { createDockerEngine } from "../../engine/docker-engine.ts";
import { APP_NAME, type MigrationLab } from "../../lab/lab.ts";
import { IconError } from "../../errors.ts";
import { address, inHost, MAIN_DOCKER_SOCKET, type TestbedStatus } from "../../testbed/index.ts";
import { pathOf, shortestPaths } from "../../testbed/paths.ts";
import { runtimeTag, RUNTIME_REPO } from "../../yard/runtime-image.ts";
import { buildProbeImage } from "./probe-icon.ts";
import { ATTACKER_HOST, CANARY_KEY, canaryValue, type AttackerSpec, type HostileTarget, type ProbeImage, type Role } from "./run-spec.ts";

const RUNTIME_IMAGE = `${RUNTIME_REPO}:${runtimeTag()}`;
/** A uid-0 name of the image's own /etc/passwd (finding 7). */
const PASSWD_ROOT_ALIAS = "root:x:0:0:root:/tmp:/sbin/nologin\nadmin:x:0:0:admin:/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n";
const VARIANTS = [
  { variant: "a", user: "root:root", volumes: ["/data"] },
  { variant: "b", user: "root:0", volumes: [] },
  { variant: "c", user: "00", volumes: [] },
  { variant: "d", user: "admin", volumes: [], passwd: PASSWD_ROOT_ALIAS },
];
const probeTag = (v: string) => `icon-hostile-bench-probe:${v}`;

export type EdgeAdmission = "allowlist" | "open";

export async function prepareNodes(lab: MigrationLab, edgeAdmission: EdgeAdmission): Promise<void> {
  const origin = lab.nodes.get(lab.roles.origin), edge = lab.nodes.get(lab.roles.edge);
  if (edgeAdmission === "allowlist") {
    const ownerKey = (await answer(origin.api.v1.status.$get())).ownerKey;
    await answer(edge.api.v1.admission.owners.$post({ json: { key: ownerKey, note: "the bench's origin" } }));
    await answer(edge.api.v1.admission.mode.$put({ json: { mode: "allowlist" } }));
  }
  const operator = await createDockerEngine(MAIN_DOCKER_SOCKET);
  await copyImage(RUNTIME_IMAGE, { engine: operator, name: "this machine's engine" }, { engine: lab.engines.get(lab.roles.origin)!, name: "the origin's engine" });
  for (const [role, n] of [["origin", origin], ["edge", edge]] as const)
    await readStream(n.api.v1.dht.put.$post({ json: { key: CANARY_KEY, value: canaryValue(role) } })).catch(() => {}); // stored where it can be: the attacks read what is there
}

/** Makes every address of the attacker's extra /24s its own (a local route on its loopback), not only the one the testbed numbers in each. */
export function claimAttackerBlock(st: TestbedStatus): void {
  const block = st.hosts.find((h) => h.name === ATTACKER_HOST)?.clientBlock;
  if (!block) throw new IconError("FAILED", `the attacker host ${ATTACKER_HOST} holds no extra /24s`, "Its topology gives it clientPrefixes (run-spec.ts hostileTopology).");
  const p = Bun.spawnSync(inHost(st, ATTACKER_HOST, ["ip", "route", "replace", "local", block.prefix, "dev", "lo"]), { stderr: "pipe" });
  if (p.exitCode !== 0) throw new IconError("FAILED", `making ${block.prefix} local in ${ATTACKER_HOST}: ${p.stderr.toString().trim()}`);
}

/** The probe images on the operator's engine, saved for the attacker to serve; `remove` deletes both. */
export async function buildProbes(operator: ContainerEngine): Promise<{ probes: ProbeImage[]; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "icon-hostile-probes-"));
  const probes: ProbeImage[] = [];
  for (const v of VARIANTS) {
    const tag = await buildProbeImage(operator, { tag: probeTag(v.variant), ...v });
    const archive = join(dir, `${v.variant}.tar`);
    await Bun.write(archive, new Response(Readable.toWeb(await operator.saveImages([tag])) as ReadableStream));
    probes.push({ variant: v.variant, user: v.user, archive, volumes: v.volumes });
  }
  return {
    probes,
    async remove() {
      for (const v of VARIANTS) await operator.removeImage(probeTag(v.variant), { force: true }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The routers of the client's path from the origin, nearest the client first, as routerIds. */
function clientRouters(lab: MigrationLab): string[] {
  const path = pathOf(shortestPaths(lab.topology, lab.roles.client), lab.roles.origin);
  return path.flatMap((n) => lab.st.routers.find((r) => r.name === n)?.block ?? []);
}

async function target(lab: MigrationLab, role: Role, admission: EdgeAdmission): Promise<HostileTarget> {
  const host = lab.roles[role];
  const s = await answer(lab.nodes.get(host).api.v1.status.$get());
  return {
    role, host, nodeId: s.nodeId, ownerKey: s.ownerKey, address: address(lab.st, host), dhtPort: s.dhtPort, peerPort: s.peerPort,
    admission: role === "edge" ? admission : "open", dataDir: s.dataDir, engineSocket: s.engine.socket,
  };
}

export async function attackerSpec(lab: MigrationLab, o: { probes: ProbeImage[]; edgeAdmission: EdgeAdmission; only?: string[]; rounds?: number }): Promise<AttackerSpec> {
  const st: TestbedStatus = lab.st;
  const atk = st.hosts.find((h) => h.name === ATTACKER_HOST)!;
  const operator = await createDockerEngine(MAIN_DOCKER_SOCKET);
  const app = (await operator.inspectImage(lab.appImage))!;
  const neighbours: AttackerSpec["neighbours"] = {};
  // An ICON must not reach its node's other ICONs on their bridge: the root ICON, the replica.
  for (const role of ["origin", "edge"] as const) {
    const views = await answer(lab.nodes.get(lab.roles[role]).api.v1.icons.$get({ query: {} })).catch(() => []);
    neighbours[role] = views.filter((v) => v.network.address).map((v) => ({ name: `another ICON (${v.name})`, host: v.network.address!, port: v.port }));
  }
  return {
    targets: [await target(lab, "origin", o.edgeAdmission), await target(lab, "edge", o.edgeAdmission)],
    attacker: { primary: atk.address, block: atk.clientBlock },
    client: address(st, lab.roles.client),
    clientRouters: clientRouters(lab),
    operatorEngine: MAIN_DOCKER_SOCKET,
    operatorTag: lab.appImage,
    victimTags: [RUNTIME_IMAGE, lab.appImage],
    rootIcon: APP_NAME,
    app: { ref: lab.appImage, id: app.id, diffIds: app.diffIds },
    probes: o.probes,
    neighbours,
    only: o.only,
    rounds: o.rounds,
  };
}
