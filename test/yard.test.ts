/**
 * The yard on real Docker, driven like an operator would: a node process started from source with its
 * own engine (the default), the CLI (run/ps/stop/start/logs/rm), the example ICON built on this machine's
 * engine FROM the icon-runtime image made by `icon runtime build` and copied into the node's engine by
 * `icon run`, and a fixture ICON that misbehaves on request. Everything created here carries the
 * "icontest-" prefix or lives in the test nodes' engines, which are removed at the end.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeWith, ROOT_DIR } from "./support/needs.ts";

const RUNTIME = "icontest-runtime";
const HELLO = "icontest-hello:latest";
const FIXTURE = "icontest-fixture:latest";

/** A fixture ICON: FIXTURE=crash | badjson | flood | slow changes how it behaves before ready. */
const FIXTURE_SERVER = `
import { icon } from "icon-runtime";
const mode = process.env.FIXTURE ?? "";
if (mode === "crash") {
  console.log("fixture: starting");
  console.error("fixture: crashing on purpose");
  process.exit(3);
}
if (mode === "badjson" || mode === "flood") {
  // Speak to the socket directly, as a broken or hostile runtime would.
  const answers: string[] = [];
  let closed = false;
  const s = await Bun.connect({ unix: "/run/icon/icon.sock", socket: {
    data(_s, d) { answers.push(...new TextDecoder().decode(d).split("\\n").filter(Boolean)); },
    close() { closed = true; },
  } });
  if (mode === "badjson") s.write("{not json\\n");
  else for (let i = 0; i < 200 && !closed; i++) { s.write((JSON.stringify({ id: i, op: "hello", protocol: 1 }) + "\\n").repeat(100)); await Bun.sleep(1); }
  await Bun.sleep(300);
  console.log("fixture-result " + JSON.stringify({ answers: answers.length, first: answers[0] && JSON.parse(answers[0]), closed }));
}
Bun.serve({ port: icon.port, fetch: () => new Response("fixture ok\\n") });
if (mode === "slow") await Bun.sleep(Number(process.env.DELAY_MS ?? 3000));
await icon.ready();
console.log("fixture: ready");
`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(cmd: string[], env: Record<string, string> = {}): Promise<Result> {
  const p = Bun.spawn(cmd, { cwd: ROOT_DIR, env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}
const icon = (args: string[], env: Record<string, string> = {}) => sh([process.execPath, "src/cli/main.ts", ...args], env);

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

class TestNode {
  proc?: ReturnType<typeof Bun.spawn>;
  nodeId = "";
  engineSocket = "";
  log = "";
  constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.proc = Bun.spawn([process.execPath, "src/cli/main.ts", "node", "start", "--data-dir", this.dir, "--dht-port", "0", "--peer-port", "0", "--listen", "127.0.0.1"], {
      cwd: ROOT_DIR, env: { ...process.env, NO_COLOR: "1", ...this.env }, stdout: "ignore", stderr: "pipe",
    });
    void (async () => {
      for await (const chunk of this.proc!.stderr as ReadableStream<Uint8Array>) this.log += new TextDecoder().decode(chunk);
    })();
    const st = await until("the node to answer", async () => {
      const r = await this.cli(["node", "status", "--json"]);
      return r.code === 0 && (JSON.parse(r.stdout) as { nodeId: string; engine: { socket: string } });
    });
    this.nodeId = st.nodeId;
    this.engineSocket = st.engine.socket;
  }
  cli(args: string[]): Promise<Result> {
    return icon([...args, "--data-dir", this.dir]);
  }
  async ps(): Promise<{ name: string; state: string; port: number; address: string; reason?: string; containerId?: string }[]> {
    const r = await this.cli(["ps", "--all", "--json"]);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }
  async state(name: string): Promise<string | undefined> {
    return (await this.ps()).find((v) => v.name === name)?.state;
  }
  /** `docker` against the node's own engine (which outlives a node killed with -9). */
  docker(args: string[]): Promise<Result> {
    return sh(["docker", "-H", `unix://${this.engineSocket}`, ...args]);
  }
  async kill9(): Promise<void> {
    this.proc?.kill(9);
    await this.proc?.exited;
  }
  async stop(): Promise<void> {
    this.proc?.kill("SIGTERM");
    await this.proc?.exited;
  }
  async containers(): Promise<{ id: string; name: string; state: string }[]> {
    const r = await this.docker(["ps", "-a", "--no-trunc", "--filter", `label=icon.node=${this.nodeId}`, "--format", "{{.ID}} {{.Label \"icon.name\"}} {{.State}}"]);
    return r.stdout.trim().split("\n").filter(Boolean).map((l) => {
      const [id, name, state] = l.split(" ");
      return { id: id!, name: name!, state: state! };
    });
  }
}

describeWith(["docker", "binary"], "yard on Docker", () => {
  let work: string;
  const nodes: TestNode[] = [];
  let portBase = 0;
  const newNode = async (name: string, env: Record<string, string> = {}) => {
    const n = new TestNode(join(work, name), { ICON_PORT_RANGE: `${portBase}-${portBase + 19}`, ICON_ICON_READY_SEC: "20", ...env });
    nodes.push(n);
    await n.start();
    return n;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "icon-yard-"));
    portBase = 30000 + (process.pid % 300) * 100;
    const built = await icon(["runtime", "build", "--repo", RUNTIME, "--json"]);
    if (built.code !== 0) throw new Error(`runtime build failed: ${built.stderr}`);
    const hello = await sh(["examples/hello-icon/build.sh"], { TAG: HELLO, RUNTIME: `${RUNTIME}:latest` });
    if (hello.code !== 0) throw new Error(`example build failed: ${hello.stderr}`);
    await Bun.write(join(work, "fixture/server.ts"), FIXTURE_SERVER);
    await Bun.write(join(work, "fixture/Dockerfile"), `FROM ${RUNTIME}:latest\nCOPY server.ts /app/server.ts\n`);
    const fx = await sh(["docker", "build", "-q", "-t", FIXTURE, join(work, "fixture")]);
    if (fx.code !== 0) throw new Error(`fixture build failed: ${fx.stderr}`);
  }, 120_000);

  afterAll(async () => {
    for (const n of nodes) await n.kill9();
    for (const n of nodes) await icon(["engine", "rm", "--data-dir", n.dir]); // its containers and images go with it
    const tags = (await sh(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", RUNTIME])).stdout.trim().split("\n").filter(Boolean);
    await sh(["docker", "rmi", "-f", HELLO, FIXTURE, ...tags]);
    await rm(work, { recursive: true, force: true });
  }, 60_000);

  test("run the example ICON: RUNNING, reachable, stop and hot start, logs, rm", async () => {
    const n = await newNode("a");
    const port = await freePort();
    const run = await n.cli(["run", HELLO, "--name", "hello", "--port", String(port), "-e", "GREETING=hej", "--json"]);
    expect(run.code).toBe(0);
    const view = JSON.parse(run.stdout);
    expect(view).toMatchObject({ name: "hello", state: "RUNNING", port, address: "127.0.0.1", parent: null, children: [] });
    // Progress streamed on stderr: the states in order.
    const states = run.stderr.trim().split("\n").map((l) => JSON.parse(l).state);
    expect(states).toEqual(["STARTING", "WAITING_READY", "RUNNING"]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("hej from hello\n");
    // The node's topology answers the ICON (a client on loopback: never trace beyond this machine);
    // no other node announced anything, so nobody is closer.
    const closer = await (await fetch(`http://127.0.0.1:${port}/closer?client=127.0.0.9`)).json();
    expect(closer).toEqual([]);

    expect((await n.cli(["stop", "hello"])).code).toBe(0);
    expect(await n.state("hello")).toBe("STOPPED");
    expect((await n.cli(["ps", "--json"])).stdout.trim()).toBe("[]");
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    const containerBefore = (await n.containers())[0]!.id;

    const start = await n.cli(["start", "hello"]);
    expect(start.code).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("hej from hello\n");
    expect((await n.containers()).map((c) => c.id)).toEqual([containerBefore]); // hot: same container, same port

    const logs = await n.cli(["logs", "hello"]);
    expect(logs.stdout).toContain(`hello ready on port ${port}`);
    expect(logs.stdout).toContain("stopping (");

    expect((await n.cli(["rm", "hello"])).code).toBe(4); // running: refused without --force
    expect((await n.cli(["rm", "--force", "hello"])).code).toBe(0);
    expect(await n.containers()).toEqual([]);
    expect(await n.ps()).toEqual([]);
  }, 60_000);

  test("the created container carries the hardening defaults, seen from outside and inside", async () => {
    const n = await newNode("h");
    expect((await n.cli(["run", HELLO, "--name", "hard", "--memory", "128m", "--cpus", "0.5"])).code).toBe(0);
    const [c] = await n.containers();
    const [info] = JSON.parse((await n.docker(["inspect", c!.id])).stdout);
    const h = info.HostConfig;
    expect(h.CapDrop).toEqual(["ALL"]);
    expect(h.CapAdd).toBeNull();
    expect(h.SecurityOpt).toEqual(["no-new-privileges"]);
    expect(h.ReadonlyRootfs).toBe(true);
    expect(Object.keys(h.Tmpfs)).toEqual(["/tmp"]);
    expect(h.Memory).toBe(128 * 2 ** 20);
    expect(h.NanoCpus).toBe(5e8);
    expect(h.PidsLimit).toBe(256);
    expect(h.Privileged).toBe(false);
    expect(h.PidMode).toBe("");
    expect(h.IpcMode).toBe("private");
    // The namespace of its holder, on the node's own engine's bridge behind the node's firewall, hardened too.
    expect(h.NetworkMode).toMatch(/^container:[0-9a-f]{64}$/);
    expect(h.Sysctls).toBeUndefined();
    const [holder] = JSON.parse((await n.docker(["inspect", h.NetworkMode.slice("container:".length)])).stdout);
    expect(holder.Name).toBe("/icon-net-hard");
    expect(holder.HostConfig).toMatchObject({ NetworkMode: "bridge", Sysctls: { "net.ipv6.conf.all.disable_ipv6": "1" }, CapDrop: ["ALL"], ReadonlyRootfs: true, SecurityOpt: ["no-new-privileges"], Privileged: false });
    expect(holder.Config.User).toBe("65534:65534");
    expect(info.Config.User).toBe("65534:65534");
    expect(info.Mounts.map((m: { Destination: string }) => m.Destination)).toEqual(["/run/icon"]);
    expect(JSON.stringify(info.Mounts)).not.toContain("docker.sock");
    expect(info.Config.Labels).toMatchObject({ "icon.node": n.nodeId, "icon.name": "hard", "icon.role": "root", "icon.parent": "" });
    // Inside: no capabilities, no-new-privileges, not root, and the root filesystem refuses writes.
    const probe = `const s = require("fs").readFileSync("/proc/self/status", "utf8");
      let ro = "writable"; try { require("fs").writeFileSync("/app/x", "1"); } catch (e) { ro = e.code; }
      console.log(JSON.stringify({ cap: /CapEff:\\s*(\\w+)/.exec(s)[1], nnp: /NoNewPrivs:\\s*(\\d)/.exec(s)[1], uid: process.getuid(), ro }));`;
    const inside = await n.docker(["exec", c!.id, "/usr/local/bin/icon", "-e", probe]);
    expect(JSON.parse(inside.stdout)).toEqual({ cap: "0000000000000000", nnp: "1", uid: 65534, ro: "EROFS" });
    // Outside: user namespaces, so even uid 0 inside would not be root here.
    const hostUid = Number(/^Uid:\s*(\d+)/m.exec(await Bun.file(`/proc/${info.State.Pid}/status`).text())![1]);
    expect(hostUid).toBe(100000 + 65534);
  }, 60_000);

  test("errors a user meets say what happened and how to fix it", async () => {
    const n = await newNode("e");
    const missing = await n.cli(["run", "icontest-no-such-image:1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("image icontest-no-such-image:1 is not on this node");
    expect(missing.stderr).toContain("fix: Build it first");

    const port = await freePort();
    const holder = Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } });
    try {
      const taken = await n.cli(["run", HELLO, "--name", "p1", "--port", String(port)]);
      expect(taken.code).toBe(4);
      expect(taken.stderr).toContain(`port ${port} is taken`);
      expect(taken.stderr).toContain("fix: Choose another --port");
    } finally {
      holder.stop(true);
    }
    expect(await n.ps()).toEqual([]); // nothing left behind by refused runs

    const crash = await n.cli(["run", FIXTURE, "--name", "crash", "-e", "FIXTURE=crash"]);
    expect({ code: crash.code, stderr: crash.stderr }).toMatchObject({ code: 10 }); // a failure shows the error
    expect(crash.stderr).toContain("exited with code 3 before it called icon.ready()");
    expect(crash.stderr).toContain("fixture: crashing on purpose");
    expect(crash.stderr).toContain('fix: See "icon logs crash"');
    expect(await n.state("crash")).toBe("FAILED");

    // Malformed JSON from inside a container: answered with an error, connection kept, node unharmed.
    expect((await n.cli(["run", FIXTURE, "--name", "bad", "-e", "FIXTURE=badjson"])).code).toBe(0);
    const bad = JSON.parse((await n.cli(["logs", "bad"])).stdout.split("\n").find((l) => l.startsWith("fixture-result "))!.slice(15));
    expect(bad).toMatchObject({ answers: 1, closed: false, first: { ok: false, code: "INVALID_INPUT" } });

    // A flood: bounded, the flooding connection closed, the ICON still reaches RUNNING on a new one.
    expect((await n.cli(["run", FIXTURE, "--name", "flood", "-e", "FIXTURE=flood"])).code).toBe(0);
    const flood = JSON.parse((await n.cli(["logs", "flood"])).stdout.split("\n").find((l) => l.startsWith("fixture-result "))!.slice(15));
    expect(flood.closed).toBe(true);
    expect(flood.answers).toBeLessThan(1000);
    expect((await n.cli(["node", "status"])).code).toBe(0);
    expect(await n.state("flood")).toBe("RUNNING");

    // Docker unreachable: the node still starts, and ICON commands name the socket and the fix.
    const nd = await newNode("nodocker", { ICON_ENGINE: "external", ICON_DOCKER_SOCKET: join(work, "no-docker.sock") });
    const down = await nd.cli(["run", HELLO]);
    expect(down.code).toBe(8);
    expect(down.stderr).toContain(`Docker is not reachable: no engine socket at ${join(work, "no-docker.sock")}`);
    expect(down.stderr).toContain("dockerSocket");
  }, 60_000);

  test("kill -9 mid-start, restart: state reconciled, no orphan, no duplicate", async () => {
    const n = await newNode("k");
    const running = icon(["run", FIXTURE, "--name", "slow", "-e", "FIXTURE=slow", "-e", "DELAY_MS=2500", "--data-dir", n.dir]);
    await until("WAITING_READY", async () => (await n.state("slow")) === "WAITING_READY");
    await n.kill9();
    expect((await running).code).not.toBe(0); // its node died under it
    // While the node is down: a stray container with its label (an orphan) and a second copy of "slow".
    // Its engine outlives it: the container keeps running meanwhile.
    const [slow] = await n.containers();
    expect(slow!.state).toBe("running");
    const orphan = await n.docker(["create", "--label", `icon.node=${n.nodeId}`, "--label", "icon.name=ghost", FIXTURE]);
    const dup = await n.docker(["create", "--label", `icon.node=${n.nodeId}`, "--label", "icon.name=slow", FIXTURE]);
    expect(orphan.code + dup.code).toBe(0);

    await n.start();
    await until("RUNNING after the restart", async () => (await n.state("slow")) === "RUNNING");
    const after = await n.containers();
    expect(after).toEqual([{ id: slow!.id, name: "slow", state: "running" }]);
    expect(n.log).toContain("removing orphan container of ICON ghost");
    expect(n.log).toContain("removing duplicate container of ICON slow");

    // A clean stop (SIGTERM) stops the ICON but keeps it, for a hot start after the restart; its engine
    // stops with the node and starts again with it.
    await n.stop();
    await n.start();
    expect(await n.state("slow")).toBe("STOPPED");
    expect((await n.containers()).map((c) => c.state)).toEqual(["exited"]);
    expect((await n.cli(["start", "slow"])).code).toBe(0);
    expect(await n.state("slow")).toBe("RUNNING");
  }, 60_000);
});
