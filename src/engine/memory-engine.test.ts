import { describe, expect, test } from "bun:test";
import { isIconError } from "../errors.ts";
import { composeLoad, parseSave } from "../images/archive.ts";
import { readTar, tarStream } from "../util/tar.ts";
import type { ContainerSpec } from "./container-engine.ts";
import { MemoryEngine } from "./memory-engine.ts";

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: "c1", image: "app:1", env: {}, labels: { team: "a" }, user: "", binds: [], tmpfs: {}, readOnlyRoot: false, capDrop: [],
  securityOpt: [], memoryBytes: 0, nanoCpus: 0, pidsLimit: 0, init: false, network: { mode: "none" }, stopTimeoutSec: 1, ...over,
});

async function bytesOf(stream: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c as Uint8Array);
  return new Uint8Array(Buffer.concat(chunks));
}

describe("memory engine: containers", () => {
  test("a program runs after start, logs, and its exit code is what waitExit and inspect report", async () => {
    const e = new MemoryEngine();
    await e.addImage("app:1");
    e.program("app:1", (p) => {
      p.log("hello");
      p.log("oops", "stderr");
      p.exit(3);
    });
    const id = await e.createContainer(spec());
    expect((await e.inspectContainer("c1"))?.status).toBe("created");
    await e.startContainer(id);
    expect(await e.waitExit(id)).toBe(3);
    expect(await e.inspectContainer(id)).toMatchObject({ status: "exited", running: false, exitCode: 3, pid: 0, name: "c1" });
    const lines = [];
    for await (const l of e.logs(id, { tail: 1 })) lines.push(l);
    expect(lines).toEqual([{ stream: "stderr", line: "oops" }]);
  });

  test("stop: a program that exits on the signal picks its code, one that ignores it is killed (137)", async () => {
    const e = new MemoryEngine();
    await e.addImage("app:1");
    await e.addImage("deaf:1", { layers: ["other"] });
    e.program("app:1", (p) => p.signal.addEventListener("abort", () => p.exit(0)));
    const polite = await e.createContainer(spec());
    const deaf = await e.createContainer(spec({ name: "c2", image: "deaf:1" }));
    await Promise.all([e.startContainer(polite), e.startContainer(deaf)]);
    expect((await e.inspectContainer(deaf))?.pid).toBeGreaterThan(0);
    await Promise.all([e.stopContainer(polite, 1), e.stopContainer(deaf, 1)]);
    expect([(await e.inspectContainer(polite))?.exitCode, (await e.inspectContainer(deaf))?.exitCode]).toEqual([0, 137]);
  });

  test("follow ends when the container stops; list filters by label; Docker's refusals have Docker's codes", async () => {
    const e = new MemoryEngine();
    await e.addImage("app:1");
    const id = await e.createContainer(spec());
    await e.startContainer(id);
    const followed = (async () => {
      const out: string[] = [];
      for await (const l of e.logs(id, { follow: true })) out.push(l.line);
      return out;
    })();
    await Bun.sleep(1);
    expect((await e.inspectContainer(id))?.running).toBe(true);
    await e.stopContainer(id, 1);
    expect(await followed).toEqual([]);
    expect((await e.listContainers({ team: "a" })).map((c) => c.id)).toEqual([id]);
    expect(await e.listContainers({ team: "b" })).toEqual([]);
    await expect(e.createContainer(spec())).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(e.createContainer(spec({ name: "c3", image: "nope:1" }))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(e.startContainer("nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await e.startContainer(id);
    await expect(e.removeContainer(id)).rejects.toMatchObject({ code: "CONFLICT" });
    await e.removeContainer(id, { force: true });
    expect(e.all()).toEqual([]);
  });

  test("a second container publishing the same host port is refused at start (port is already allocated)", async () => {
    const e = new MemoryEngine();
    await e.addImage("app:1");
    const network = { mode: "publish" as const, hostIp: "127.0.0.1", ports: [{ host: 8080, container: 8080 }] };
    await e.startContainer(await e.createContainer(spec({ network })));
    const second = await e.createContainer(spec({ name: "c2", network }));
    const err = await e.startContainer(second).catch((x) => x);
    expect(isIconError(err, "CONFLICT")).toBe(true);
    expect(err.message).toContain("port is already allocated");
  });

  test("unreachable, and one injected failure: DOCKER errors, then normal again", async () => {
    const e = new MemoryEngine("/x/d.sock");
    e.reachable = false;
    await expect(e.ping()).rejects.toMatchObject({ code: "DOCKER", message: "Docker is not running: /x/d.sock refuses connections" });
    e.reachable = true;
    e.failNext("ping", new Error("boom"));
    await expect(e.ping()).rejects.toThrow("boom");
    expect((await e.ping()).apiVersion).toBe("1.41");
  });
});

describe("memory engine: pause", () => {
  test("a paused container is still up (as Docker's State.Running); unpaused it runs; stop and pause of a stopped one as Docker", async () => {
    const e = new MemoryEngine();
    await e.addImage("app:1");
    const id = await e.createContainer(spec());
    await e.startContainer(id);
    await e.pauseContainer(id);
    expect(await e.inspectContainer(id)).toMatchObject({ status: "paused", running: true });
    await e.unpauseContainer(id);
    await e.unpauseContainer(id); // not paused: nothing to do
    expect(await e.inspectContainer(id)).toMatchObject({ status: "running", running: true });
    await e.pauseContainer(id);
    await e.stopContainer(id, 1); // a paused container stops too
    expect(await e.inspectContainer(id)).toMatchObject({ status: "exited", running: false });
    const refused = await e.pauseContainer(id).catch((x) => x);
    expect(isIconError(refused, "CONFLICT")).toBe(true);
  });
});

describe("memory engine: images", () => {
  test("push to a shared registry, pull on another engine: the same id, tagged with the pulled name", async () => {
    const registry = new Map<string, Uint8Array>();
    const a = new MemoryEngine("a", undefined, registry);
    const b = new MemoryEngine("b", undefined, registry);
    const img = await a.addImage("10.0.0.1:5000/app:1", { layers: ["base", "app"] });
    await a.pushImage("10.0.0.1:5000/app:1");
    const pulled = await b.pullImage("10.0.0.1:5000/app:1");
    expect(pulled.bytes).toBeGreaterThan(0);
    expect(await b.inspectImage("10.0.0.1:5000/app:1")).toMatchObject({ id: img.id, diffIds: img.diffIds });
    const missing = await b.pullImage("10.0.0.1:5000/other:1").catch((x) => x);
    expect(isIconError(missing, "NOT_FOUND")).toBe(true);
  });

  test("save writes the legacy docker save layout; load of it on an empty engine gives the same id and tags", async () => {
    const a = new MemoryEngine();
    const img = await a.addImage("app:1", { layers: ["base", "app"], user: "1000", labels: { "icon.policy.prefetch": "false" } });
    expect(img).toMatchObject({ repoTags: ["app:1"], user: "1000", labels: { "icon.policy.prefetch": "false" } });
    expect(img.diffIds.length).toBe(2);
    const archive = await bytesOf(await a.saveImages(["app:1"]));
    const names = readTar(archive).map((t) => t.name);
    expect(names).toContain("manifest.json");
    expect(names).toContain(`${img.id.slice(7)}.json`);
    expect(names.filter((n) => n.endsWith("/layer.tar")).length).toBe(2);

    const b = new MemoryEngine();
    await b.loadImage((await a.saveImages(["app:1"])) as never);
    expect(await b.inspectImage("app:1")).toMatchObject({ id: img.id, diffIds: img.diffIds, user: "1000" });
    expect(await b.listImageIds()).toEqual([img.id]);
  });

  test("a partial archive loads only where the layers left out are held with the same layers below", async () => {
    const src = new MemoryEngine();
    const app = await src.addImage("app:1", { layers: ["base", "app"] });
    const parts = parseSave(await bytesOf(await src.saveImages(["app:1"])));
    parts.layers.delete(app.diffIds[0]!); // the base layer left out
    const partial = () => tarStream(composeLoad(parts));

    const bare = new MemoryEngine();
    const err = await bare.loadImage(partial()).catch((x) => x);
    expect(isIconError(err, "DOCKER")).toBe(true);
    expect(err.message).toContain(`${app.diffIds[0]!.slice(7)}/layer.tar: no such file`);
    expect(await bare.listImageIds()).toEqual([]);

    const withBase = new MemoryEngine();
    await withBase.addImage("base:1", { layers: ["base"] });
    await withBase.loadImage(partial());
    expect((await withBase.inspectImage("app:1"))?.id).toBe(app.id);
  });

  test("tags move between images; removing a tag of a twice-tagged image only untags; an image in use needs force", async () => {
    const e = new MemoryEngine();
    const one = await e.addImage("app:1", { layers: ["one"] });
    await e.tagImage(one.id, "app", "latest");
    expect((await e.inspectImage("app"))?.id).toBe(one.id);
    const two = await e.addImage("app:latest", { layers: ["two"] });
    expect((await e.inspectImage("app:latest"))?.id).toBe(two.id);
    expect((await e.inspectImage(one.id))?.repoTags).toEqual(["app:1"]);
    await e.tagImage(one.id, "other", "x");
    await e.removeImage("other:x");
    expect((await e.inspectImage(one.id))?.repoTags).toEqual(["app:1"]);
    await e.createContainer(spec({ image: "app:1" }));
    await expect(e.removeImage(one.id)).rejects.toMatchObject({ code: "CONFLICT" });
    await e.removeImage(one.id, { force: true });
    expect(await e.inspectImage("app:1")).toBeUndefined();
  });
});
