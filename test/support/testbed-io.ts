/** Sending and receiving one datagram or connection inside testbed namespaces (Bun's node:dgram / node:net). */
import { afterAll, beforeAll } from "bun:test";
import { down, up } from "../../src/testbed/lifecycle.ts";
import type { TestbedStatus } from "../../src/testbed/state.ts";
import type { NetworkSpec } from "../../src/testbed/topology.ts";
import { sh } from "./run.ts";

export interface Received {
  text: string;
  /** Source address:port as the receiver saw it. */
  from: string;
}

/**
 * Listens in `netns` on UDP (or TCP) `port` of every IPv4 (or, `family` 6, IPv6) address until one
 * datagram (or connection's data) arrives or `ms` pass. Resolves once listening with a promise of what
 * arrived (undefined if nothing did): wrapped, since an async function's promise would wait for it.
 */
export async function listen(netns: string, port: number, ms: number, proto: "udp" | "tcp" = "udp", family: 4 | 6 = 4): Promise<{ received: Promise<Received | undefined> }> {
  // writeSync: console.log to a pipe may be lost when process.exit follows at once.
  const say = `(x) => { require("node:fs").writeSync(1, x + "\\n"); }`;
  const got = `(text, address, port) => { (${say})(JSON.stringify({ text, from: address + ":" + port })); process.exit(0); }`;
  const script = proto === "udp"
    ? `const s = require("node:dgram").createSocket("udp${family}");
       s.on("message", (m, r) => (${got})(String(m), r.address, r.port));
       s.bind(${port}, () => (${say})("ready"));`
    : `require("node:net").createServer((c) => c.on("data", (d) => (${got})(String(d), c.remoteAddress, c.remotePort)))
       .listen(${port}, "${family === 6 ? "::" : "0.0.0.0"}", () => (${say})("ready"));`;
  const p = Bun.spawn(["ip", "netns", "exec", netns, process.execPath, "-e", `${script} setTimeout(() => process.exit(0), ${ms});`], { stdout: "pipe", stderr: "pipe" });
  const reader = p.stdout.getReader();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`listener in ${netns} ended: ${await new Response(p.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  const received = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const line = text.split("\n").find((l) => l.startsWith("{"));
    return line ? (JSON.parse(line) as Received) : undefined;
  })();
  return { received };
}

/**
 * Sends `text` from `netns` to address:port (IPv4 or IPv6) over UDP (or TCP); true if the send (or
 * connect, within 3 s) worked.
 */
export function send(netns: string, address: string, port: number, text: string, proto: "udp" | "tcp" = "udp"): boolean {
  const script = proto === "udp"
    ? `const s = require("node:dgram").createSocket("udp${address.includes(":") ? 6 : 4}"); s.send(${JSON.stringify(text)}, ${port}, "${address}", (e) => { s.close(); process.exit(e ? 1 : 0); });`
    : `const c = require("node:net").connect(${port}, "${address}", () => c.end(${JSON.stringify(text)}, () => process.exit(0)));
       c.on("error", () => process.exit(1)); setTimeout(() => process.exit(1), 3000);`;
  return sh(["ip", "netns", "exec", netns, process.execPath, "-e", script]).exitCode === 0;
}

/** Brings testbed `name` up before a suite's tests (down first: a crashed run may have left it) and down after. */
export function suiteTestbed(name: string, topology: NetworkSpec, got: (st: TestbedStatus) => void): void {
  beforeAll(async () => {
    await down(name);
    got(await up({ name, topology, docker: false }));
  }, 30_000);
  afterAll(async () => {
    await down(name);
  });
}
