/**
 * `icon bench peer`: what the peer channel costs on loopback. A new connection (TCP, websocket upgrade,
 * handshake) until the first request is answered, and the throughput of one bulk transfer (an image
 * layer's size streamed as the answer to one request), both between two nodes in this process.
 */
import { generateIdentity } from "../identity/identity.ts";
import { silentLogger } from "../log.ts";
import { PeerNetwork } from "../peer/network.ts";
import { spread, type Spread } from "../util/stats.ts";

export interface PeerBenchOptions {
  /** New connections to time. @default 1000 */
  handshakes?: number;
  /** Bytes of each bulk transfer. @default 30 MB */
  bulkBytes?: number;
  /** Bulk transfers to time. @default 5 */
  transfers?: number;
  /** Size of the pieces the serving side hands to sendData (an image layer is read in pieces). @default 1 MiB */
  pieceBytes?: number;
}

export interface PeerBenchResult {
  /** From dialling until the first request's answer, new connection each time, ms. */
  connectAndRequestMs: Spread;
  /** One bulk transfer, MB/s (10^6 bytes). */
  bulkMBps: Spread;
  bulkBytes: number;
}

export async function benchPeerChannel(opts: PeerBenchOptions = {}): Promise<PeerBenchResult> {
  const { handshakes = 1000, bulkBytes = 30_000_000, transfers = 5, pieceBytes = 1 << 20 } = opts;
  // The accepting side lets this one source open a thousand connections in a row (its default rate
  // limit per /24 would refuse most of them: that is the point of it, not of this measurement).
  const make = () => new PeerNetwork({ identity: generateIdentity(), log: silentLogger, listen: "127.0.0.1", port: 0, advertisedAddress: () => "127.0.0.1", limits: { handshakeRatePerSubnet: 1e9 } });
  const [a, b] = [make(), make()];
  await a.start();
  await b.start();
  try {
    const piece = new Uint8Array(pieceBytes).fill(0x5a);
    b.handle("ping", async () => "pong");
    b.handle("bulk", async (_body, ctx) => {
      for (let sent = 0; sent < bulkBytes; sent += piece.length) await ctx.sendData(piece.subarray(0, Math.min(piece.length, bulkBytes - sent)));
      return null;
    });
    const to = { nodeId: b.nodeId, address: "127.0.0.1", port: b.port };

    const connectMs: number[] = [];
    for (let i = 0; i < handshakes; i++) {
      const t0 = performance.now();
      const conn = await a.connect(to);
      await conn.request("ping", null);
      connectMs.push(performance.now() - t0);
      conn.close("bench: next handshake");
    }

    const conn = await a.connect(to);
    const mbps: number[] = [];
    for (let i = 0; i < transfers; i++) {
      let got = 0;
      const t0 = performance.now();
      await conn.request("bulk", null, { onData: (d) => (got += d.length), timeoutMs: 120_000 });
      const ms = performance.now() - t0;
      if (got !== bulkBytes) throw new Error(`bulk transfer delivered ${got} of ${bulkBytes} bytes`);
      mbps.push(bulkBytes / 1000 / ms);
    }
    return { connectAndRequestMs: spread(connectMs), bulkMBps: spread(mbps), bulkBytes };
  } finally {
    await a.stop();
    await b.stop();
  }
}
