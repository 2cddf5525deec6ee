import { describe, expect, test } from "bun:test";
import { IconError } from "../../errors.ts";
import { silentLogger } from "../../log.ts";
import { MemoryEngine } from "../memory-engine.ts";
import { holderName, NetnsHolders } from "./netns-holders.ts";
import { PAUSE_IMAGE } from "./pause.ts";

const setup = () => {
  const engine = new MemoryEngine();
  return { engine, holders: new NetnsHolders(engine, "bridge", false, silentLogger) };
};
const names = (engine: MemoryEngine) => engine.all().map((c) => `${c.name} ${c.status}`).sort();

describe("network namespace holders", () => {
  test("an ICON's holder runs the pause image on the bridge, hardened, and is made once", async () => {
    const { engine, holders } = setup();
    const h = await holders.ensure("web");
    expect(h.address).toMatch(/^10\./);
    expect(await holders.ensure("web")).toBe(h);
    const [c] = engine.all();
    expect(c).toMatchObject({ id: h.id, name: holderName("web"), image: PAUSE_IMAGE, running: true });
    const spec = engine.specOf(h.id);
    expect(spec).toMatchObject({ readOnlyRoot: true, capDrop: ["ALL"], user: "65534:65534", init: true, network: { mode: "network", network: "bridge" } });
    expect(spec.sysctls).toEqual({ "net.ipv6.conf.all.disable_ipv6": "1" });
  });

  test("a new ICON takes the running spare (renamed), and a holder that exits is started again", async () => {
    const { engine, holders } = setup();
    await holders.prepare([]);
    expect(names(engine)).toEqual(["icon-net--spare running"]);
    const spare = engine.all()[0]!.id;
    const h = await holders.ensure("web");
    expect(h).toMatchObject({ id: spare, address: expect.stringMatching(/^10\./) });
    expect(names(engine)).toEqual([`${holderName("web")} running`]);
    await engine.stopContainer(h.id, 1);
    await Bun.sleep(0); // the exit watch drops it
    expect((await holders.ensure("web")).id).toBe(spare);
    expect(engine.all()[0]!.running).toBe(true);
  });

  test("at node start: the ICONs' holders are started, a spare made, the holders of ICONs gone removed", async () => {
    const { engine, holders } = setup();
    for (const icon of ["web", "gone"]) await engine.stopContainer((await holders.ensure(icon)).id, 1);
    const fresh = new NetnsHolders(engine, "bridge", false, silentLogger);
    await fresh.prepare(["web"]);
    await Bun.sleep(0);
    expect(names(engine)).toEqual(["icon-net--spare running", `${holderName("web")} running`]);
    await fresh.remove("web");
    expect(names(engine)).toEqual(["icon-net--spare running"]);
  });

  test("a stopped holder that will not start (containerd after an engine restart) is made anew, running", async () => {
    const { engine, holders } = setup();
    const old = (await holders.ensure("web")).id;
    await engine.stopContainer(old, 1);
    engine.failNext("startContainer", new IconError("DOCKER", "start container: cannot start a stopped process: unknown"));
    const h = await new NetnsHolders(engine, "bridge", false, silentLogger).ensure("web");
    expect(h.id).not.toBe(old);
    expect(h.address).toMatch(/^10\./);
    expect(names(engine)).toEqual([`${holderName("web")} running`]);
  });

  test("once closed (the node stops) no spare is made", async () => {
    const { engine, holders } = setup();
    holders.close();
    expect(await holders.refillSpare()).toBeUndefined();
    expect(engine.all()).toEqual([]);
  });

  test("after a crash of the node (its engine kept running) the running holder is taken over as it is", async () => {
    const { engine, holders } = setup();
    const before = await holders.ensure("web");
    const after = await new NetnsHolders(engine, "bridge", false, silentLogger).ensure("web");
    expect(after).toEqual(before);
    expect(names(engine)).toEqual([`${holderName("web")} running`]);
  });

  test("an ICON made while the node prepares keeps its holder", async () => {
    const { engine, holders } = setup();
    await holders.ensure("new"); // after the yard listed its ICONs for prepare
    await holders.prepare([]);
    expect(names(engine)).toEqual(["icon-net--spare running", `${holderName("new")} running`]);
  });
});
