/**
 * The sample ICON of the migration demo and benchmark (thesis 3.1.3): the shared sample server
 * (sample-server.ts) and nothing else; its one layer is this file bundled with Hono (11 KB after zstd).
 * Packaged by src/lab/app-image.ts: bundled into /app/server.js, FROM icon-runtime.
 * Its client is the lab's (src/lab/client.ts, `icon demo client`); both speak src/lab/app-protocol.ts.
 */
import { serveSample } from "./sample-server.ts";

await serveSample();
