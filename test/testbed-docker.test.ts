/**
 * --docker: an IEP's namespace belongs to a container, and a container joined to it with
 * `--network container:...` is reachable at the IEP's address from UD (root, Docker).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { thesisTopology } from "../src/testbed/builtin.ts";
import { ensureImageFromBinaries } from "../src/testbed/docker.ts";
import { down, up } from "../src/testbed/lifecycle.ts";
import { LABEL } from "../src/testbed/names.ts";
import type { TestbedStatus } from "../src/testbed/state.ts";
import { describeWith } from "./support/needs.ts";
import { sh } from "./support/run.ts";

const NAME = "tbdock";
/** The Bun runtime as an image, to serve HTTP from a joined container (built once, kept). */
const BUN_IMAGE = "icon-testbed-bun:latest";
const ours = () => sh(["docker", "ps", "-a", "--filter", `label=${LABEL}=${NAME}`, "--format", "{{.Names}}"]).stdout.toString().split("\n").filter(Boolean).sort();

describeWith(["root", "docker"], "testbed: docker mode", () => {
  let st: TestbedStatus;
  beforeAll(async () => {
    await down(NAME);
    await ensureImageFromBinaries(BUN_IMAGE, [[process.execPath, "/bun"]], ["/bun", "--version"]);
    st = await up({ name: NAME, topology: thesisTopology(), docker: true });
  }, 60_000);
  afterAll(async () => {
    await down(NAME);
  });

  test("IEP hosts are owned by containers, UD is not", () => {
    const byName = Object.fromEntries(st.hosts.map((h) => [h.name, h.container]));
    expect(byName).toEqual({ UD: undefined, IEP1: `icon-tb-${NAME}-IEP1`, IEP2: `icon-tb-${NAME}-IEP2` });
    expect(ours()).toEqual([`icon-tb-${NAME}-IEP1`, `icon-tb-${NAME}-IEP2`]);
  });

  test("a container joined to IEP1's namespace serves UD at IEP1's address", async () => {
    const web = `icon-tb-${NAME}-web`;
    const run = sh(["docker", "run", "-d", "--name", web, "--label", `${LABEL}=${NAME}`, "--network", `container:icon-tb-${NAME}-IEP1`, BUN_IMAGE,
      "/bun", "-e", `Bun.serve({ port: 8080, hostname: "0.0.0.0", fetch: () => new Response("served in IEP1") }); console.log("up")`]);
    expect(run.stderr.toString()).toBe("");
    const iep1 = st.hosts.find((h) => h.name === "IEP1")!.address;
    let body = "";
    for (let i = 0; i < 50 && !body; i++) {
      const r = sh(["ip", "netns", "exec", `${NAME}-UD`, process.execPath, "-e",
        `const r = await fetch("http://${iep1}:8080/").catch(() => undefined); console.log(r ? await r.text() : "")`]);
      body = r.stdout.toString().trim();
      if (!body) await Bun.sleep(100);
    }
    expect(body).toBe("served in IEP1");
  }, 30_000);

  test("down removes the testbed's containers (and ones labelled with its name)", async () => {
    await down(NAME);
    expect(ours()).toEqual([]);
    expect(sh(["ip", "netns", "list"]).stdout.toString()).not.toContain(`${NAME}-`);
  });
});
