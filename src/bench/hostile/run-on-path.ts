/**
 * Finding 10 on the bench: the attacker on the path between the origin and the edge, in router r4. Its
 * iptables REDIRECT hands it every new peer connection between the two nodes (either way) and it relays
 * them (peer-on-path.ts), keeping what it saw: in "pass" mode for the whole attack phase, so honest
 * migrations cross it; in "flip" and "inject" mode for one migration each after it. It reports how many
 * connections it carried, how many frames it tampered with, and which of the words a reader of the
 * plaintext protocol would see (the operation, the ICON's name, its image) appeared in what it read.
 */
import { readWebSocketStream, startOnPathRelay, type OnPathMode } from "./peer-on-path.ts";

export interface OnPathSpec {
  mode: OnPathMode;
  origin: { address: string; port: number };
  edge: { address: string; port: number };
  /** Words that must not be readable on the path. */
  markers: string[];
}

export interface OnPathReport {
  mode: OnPathMode;
  connections: number;
  tampered: number;
  relayedBytes: number;
  /** Markers found in what a passive reader gets (headers, every frame's payload unmasked). */
  readable: string[];
}

/** Ports the relay listens on inside r4 (the REDIRECT targets), one per direction of dialling. */
const TO_EDGE = 4997;
const TO_ORIGIN = 4998;
/** What is kept per connection and direction to read afterwards. */
const KEEP_BYTES = 8 << 20;

function iptables(op: "-A" | "-D", from: OnPathSpec["origin"], to: OnPathSpec["origin"], port: number): void {
  const argv = ["iptables", "-w", "-t", "nat", op, "PREROUTING", "-p", "tcp", "-s", from.address, "-d", to.address, "--dport", String(to.port), "-j", "REDIRECT", "--to-ports", String(port)];
  const p = Bun.spawnSync(argv, { stderr: "pipe" });
  if (p.exitCode !== 0 && op === "-A") throw new Error(`${argv.join(" ")}: ${p.stderr.toString().trim()}`);
}

export async function runOnPath(spec: OnPathSpec, ready: () => void, stop: Promise<unknown>): Promise<OnPathReport> {
  // What a passive reader keeps: per connection and direction, up to KEEP_BYTES.
  const streams = new Map<string, { bytes: Buffer[]; size: number }>();
  let relayed = 0;
  const record = (via: string) => (b: Uint8Array, direction: "to-server" | "to-client", connection: number) => {
    relayed += b.length;
    const key = `${via} ${connection} ${direction}`;
    let s = streams.get(key);
    if (!s) streams.set(key, (s = { bytes: [], size: 0 }));
    if (s.size < KEEP_BYTES) (s.bytes.push(Buffer.from(b)), (s.size += b.length));
  };
  const relays = [
    await startOnPathRelay({ listenPort: TO_EDGE, to: spec.edge, mode: spec.mode, record: record("to-edge") }),
    await startOnPathRelay({ listenPort: TO_ORIGIN, to: spec.origin, mode: spec.mode, record: record("to-origin") }),
  ];
  iptables("-A", spec.origin, spec.edge, TO_EDGE);
  iptables("-A", spec.edge, spec.origin, TO_ORIGIN);
  try {
    ready();
    await stop;
  } finally {
    iptables("-D", spec.origin, spec.edge, TO_EDGE);
    iptables("-D", spec.edge, spec.origin, TO_ORIGIN);
    for (const r of relays) r.stop();
  }
  const readable = new Set<string>();
  for (const s of streams.values()) {
    const { head, payloads } = readWebSocketStream(Buffer.concat(s.bytes));
    const seen = Buffer.concat([Buffer.from(head), ...payloads]);
    for (const m of spec.markers) if (seen.includes(m)) readable.add(m);
  }
  const sum = (k: "connections" | "tampered") => relays.reduce((a, r) => a + r.stats[k], 0);
  return { mode: spec.mode, connections: sum("connections"), tampered: sum("tampered"), relayedBytes: relayed, readable: [...readable] };
}
