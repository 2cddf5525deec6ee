/**
 * Runs the on-path relay (src/bench/hostile/peer-on-path.ts) as a process in a router's namespace,
 * appending the bytes relayed each way to DUMP.to-server and DUMP.to-client. Prints one JSON line when listening.
 *
 *   bun on-path-relay.ts '{"listenPort":4999,"to":{"address":"10.0.0.2","port":4101},"mode":"flip","dump":"/tmp/x"}'
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { startOnPathRelay, type OnPathOptions } from "../../../src/bench/hostile/peer-on-path.ts";

const o = JSON.parse(process.argv[2]!) as OnPathOptions & { dump: string };
for (const d of ["to-server", "to-client"]) writeFileSync(`${o.dump}.${d}`, "");
const relay = await startOnPathRelay({ ...o, record: (bytes, direction) => appendFileSync(`${o.dump}.${direction}`, bytes) });
process.stdout.write(JSON.stringify({ listening: o.listenPort }) + "\n");
process.on("SIGTERM", () => {
  relay.stop();
  process.exit(0);
});
