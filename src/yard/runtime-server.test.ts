/**
 * The runtime socket end to end on a real Unix socket, without Docker: the icon-runtime library on one
 * side, the yard's RuntimeSocket and IconEntry on the other (the services are the seam replaced here).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIcon, type Icon } from "../../icon-runtime/src/index.ts";
import { silentLogger } from "../log.ts";
import { IconEntry, type EntryHost } from "./entry.ts";
import { LIMITS, RuntimeSocket } from "./runtime-server.ts";
import { unavailableServices, type IconServices } from "./services.ts";
import type { IconRecord } from "./types.ts";

const NODE = "ab".repeat(20);
const rec = (over: Partial<IconRecord> = {}): IconRecord => ({
  name: "t1", image: "img", role: "root", port: 8080, env: {}, user: "", createdAt: "", children: [], policy: {},
  limits: { memoryBytes: 1 << 28, cpus: 1, pids: 64 }, lastState: "STOPPED", ...over,
});

let dir: string;
let path: string;
let server: RuntimeSocket | undefined;
let icons: Icon[] = [];
const readies: number[] = [];
let services: IconServices = unavailableServices;
let policies = 0;
let saves = 0;

function host(): EntryHost {
  return {
    nodeId: NODE,
    egress: "unfiltered",
    address: () => "10.0.0.7",
    services: () => services,
    now: Date.now,
    onReady: async (_e, port) => void readies.push(port),
    onPolicy: async () => void policies++,
    save: async () => void saves++,
  };
}

async function listen(entry: IconEntry): Promise<RuntimeSocket> {
  server = await RuntimeSocket.listen(path, entry, silentLogger);
  entry.socket = server;
  return server;
}
function icon(): Icon {
  const i = createIcon({ socketPath: path, exitOnTerminate: false });
  icons.push(i);
  return i;
}

/** A raw client: sends lines, collects answer lines. */
async function raw() {
  const lines: string[] = [];
  let closed = false;
  let buf = "";
  let pending = new Uint8Array(0);
  const flush = () => {
    const n = s.write(pending);
    pending = pending.subarray(Math.max(n, 0));
  };
  const s = await Bun.connect({
    unix: path,
    socket: {
      drain: () => flush(),
      data(_s, d) {
        buf += new TextDecoder().decode(d);
        let i;
        while ((i = buf.indexOf("\n")) >= 0) (lines.push(buf.slice(0, i)), (buf = buf.slice(i + 1)));
      },
      close() {
        closed = true;
      },
    },
  });
  const write = (text: string) => {
    const add = new TextEncoder().encode(text);
    const next = new Uint8Array(pending.length + add.length);
    next.set(pending);
    next.set(add, pending.length);
    pending = next;
    flush();
  };
  return { write, lines, closed: () => closed, answers: () => lines.map((l) => JSON.parse(l)) };
}
const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "icon-rt-"));
  path = join(dir, "icon.sock");
  readies.length = 0;
  services = unavailableServices;
  policies = 0;
});
afterEach(async () => {
  for (const i of icons) i.close();
  icons = [];
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe("runtime protocol through the icon-runtime library", () => {
  test("hello, ready and info: the ICON is told who it is; ready reaches the yard", async () => {
    await listen(new IconEntry(rec({ initialState: { n: 3 }, policy: { maxReplicas: 2 } }), host()));
    const i = icon();
    expect(await i.ready(8080)).toEqual({ address: "10.0.0.7", port: 8080 });
    expect(readies).toEqual([8080]);
    const info = await i.info();
    expect(info).toMatchObject({ name: "t1", role: "root", nodeId: NODE, endpoint: { address: "10.0.0.7", port: 8080 } });
    expect(await i.initialState()).toEqual({ n: 3 });
    expect(await i.policy({ minRttGainMs: 20 })).toEqual({ maxReplicas: 2, minRttGainMs: 20 });
    expect(policies).toBe(1);
  });

  test("without topology and peer components, services answer a clear error, not a fake result", async () => {
    await listen(new IconEntry(rec(), host()));
    const i = icon();
    await expect(i.findCloser("10.1.2.3")).rejects.toThrow("not available: this node has no peer protocol yet");
    await expect(i.replicate({ nodeId: "cd".repeat(20) })).rejects.toThrow("not available");
    await expect(i.sendToChildren({ x: 1 })).rejects.toThrow("not available");
    await expect(i.sendToParent({ x: 1 })).rejects.toThrow("root ICON");
  });

  test("services plugged in: findCloser, replicate with status events, messages both ways", async () => {
    const seen: unknown[] = [];
    services = {
      findCloser: async (ref, client) => [{ nodeId: "cd".repeat(20), address: "10.9.9.9", peerPort: 4101, rttMs: 14, routerId: client }],
      replicate: async (ref, target, options, onStatus) => {
        seen.push({ icon: ref.name, target: target.nodeId, state: options.state });
        setTimeout(() => onStatus({ replica: "r1", target: target.nodeId, state: "running", endpoint: { address: "10.9.9.9", port: 20000 } }), 20);
        return { replica: "r1" };
      },
      sendToParent: async () => true,
      sendToChildren: async (_ref, data) => (seen.push(data), 2),
    };
    const entry = new IconEntry(rec(), host());
    await listen(entry);
    const i = icon();
    expect(entry.rec.asksCloser).toBeUndefined();
    const savedBefore = saves;
    const [c] = await i.findCloser("192.0.2.1");
    expect(c).toMatchObject({ address: "10.9.9.9", routerId: "192.0.2.1" });
    // The record learns, once, that this ICON asks: clients' SYNs to its port now start the finder.
    await i.findCloser("192.0.2.2");
    expect({ asksCloser: entry.rec.asksCloser, saves: saves - savedBefore }).toEqual({ asksCloser: true, saves: 1 });
    const replica = await i.replicate(c!, { state: { user: 5 } });
    expect(replica.id).toBe("r1");
    expect(await replica.running).toEqual({ address: "10.9.9.9", port: 20000 });
    expect(seen[0]).toEqual({ icon: "t1", target: "cd".repeat(20), state: { user: 5 } });
    expect(await i.sendToChildren("hi")).toBe(2);
    const got = new Promise((r) => i.onMessage(r));
    await until(() => server!.connections === 1);
    entry.deliver({ event: "message", from: "child", child: "r1", data: { load: 0.5 } });
    expect(await got).toEqual({ from: "child", child: "r1", data: { load: 0.5 } });
  });

  test("onTerminate runs on the orchestrator's terminate event", async () => {
    const entry = new IconEntry(rec(), host());
    await listen(entry);
    const i = icon();
    const reason = new Promise<string>((r) => i.onTerminate(r));
    await i.info();
    entry.deliver({ event: "terminate", reason: "stopped", graceMs: 1000 });
    expect(await reason).toBe("stopped");
  });

  test("reconnects when the orchestrator restarts, and says ready again", async () => {
    await listen(new IconEntry(rec(), host()));
    const i = icon();
    await i.ready(8080);
    await server!.close();
    await listen(new IconEntry(rec(), host()));
    await until(() => readies.length === 2);
    expect(readies).toEqual([8080, 8080]);
    expect(await i.info()).toMatchObject({ name: "t1" });
  });

  test("events for an ICON that is not connected are kept and delivered after its hello", async () => {
    const entry = new IconEntry(rec(), host());
    await listen(entry);
    expect(entry.deliver({ event: "message", from: "parent", data: 1 })).toBe(false);
    const i = icon();
    const got = new Promise((r) => i.onMessage(r));
    expect(await got).toEqual({ from: "parent", child: undefined, data: 1 });
  });
});

describe("runtime socket bounds (untrusted container input)", () => {
  test("malformed JSON is answered with an error and the connection stays usable", async () => {
    await listen(new IconEntry(rec(), host()));
    const c = await raw();
    c.write("this is not json\n");
    c.write(JSON.stringify({ id: 1, op: "ready", port: 8080 }) + "\n"); // before hello
    c.write(JSON.stringify({ id: 2, op: "hello", protocol: 1 }) + "\n");
    c.write(JSON.stringify({ id: 3, op: "nope" }) + "\n");
    c.write(JSON.stringify({ id: 4, op: "hello", protocol: 99 }) + "\n");
    await until(() => c.lines.length === 5);
    const a = c.answers();
    expect(a[0]).toMatchObject({ id: null, ok: false, code: "INVALID_INPUT" });
    expect(a[0].error).toContain("not JSON");
    expect(a.find((x) => x.id === 1)).toMatchObject({ ok: false, error: "say hello first" });
    expect(a.find((x) => x.id === 2)).toMatchObject({ ok: true, result: { protocol: 1 } });
    expect(a.find((x) => x.id === 3)).toMatchObject({ ok: false, code: "INVALID_INPUT" });
    expect(a.find((x) => x.id === 4)).toMatchObject({ ok: false, code: "UNSUPPORTED" });
    expect(c.closed()).toBe(false);
  });

  test("an over-long line is skipped with an error, the next line is served", async () => {
    await listen(new IconEntry(rec(), host()));
    const c = await raw();
    c.write("x".repeat(300 * 1024) + "\n" + JSON.stringify({ id: 7, op: "hello", protocol: 1 }) + "\n");
    await until(() => c.lines.length === 2);
    expect(c.answers()[0]).toMatchObject({ ok: false, code: "TOO_LARGE" });
    expect(c.answers()[1]).toMatchObject({ id: 7, ok: true });
  });

  test("a flood is rate-limited, then the connection is closed; the socket keeps serving others", async () => {
    await listen(new IconEntry(rec(), host()));
    const c = await raw();
    const flood = (JSON.stringify({ id: 1, op: "hello", protocol: 1 }) + "\n").repeat(5000);
    c.write(flood);
    await until(() => c.closed(), 5000);
    const a = c.answers();
    expect(a.length).toBeLessThan(LIMITS.burst + LIMITS.maxRejectedInRow + 50);
    expect(a.filter((x) => x.ok).length).toBeLessThanOrEqual(LIMITS.burst + 5);
    expect(a.some((x) => x.code === "RATE_LIMITED")).toBe(true);
    const i = icon();
    expect(await i.info()).toMatchObject({ name: "t1" });
  });

  test("connections beyond the limit are refused", async () => {
    await listen(new IconEntry(rec(), host()));
    const cs = [];
    for (let n = 0; n < LIMITS.maxConnections; n++) cs.push(await raw());
    const extra = await raw();
    await until(() => extra.closed());
    expect(extra.answers()[0]).toMatchObject({ ok: false, code: "CONFLICT" });
    expect(cs.every((c) => !c.closed())).toBe(true);
  });
});
