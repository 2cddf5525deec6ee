/**
 * The image attacks' target as a process of its own, so that its RSS is the target's alone: in the test
 * runner's process, the attacker's buffers and whatever the runner's other files left behind move the
 * same number. Driven by JSON lines on stdin ({gc}, {status}); answers one JSON line each on stdout.
 *
 *   bun image-target-node.ts
 */
import { imageTarget } from "./image-target.ts";

const t = await imageTarget();
const say = (v: unknown) => process.stdout.write(JSON.stringify(v) + "\n");
say({ ok: true, body: { endpoint: t.endpoint, pid: process.pid } });
process.on("SIGTERM", () => void t.close().finally(() => process.exit(0)));

for await (const line of console) {
  const cmd = JSON.parse(line) as { gc?: true; status?: true };
  if (cmd.gc) Bun.gc(true);
  say({ ok: true, body: cmd.status ? t.shipping.status() : null });
}
