/**
 * Real DHT nodes for the hostile tests: the project's `Dht` on real UDP sockets on loopback (any 127.x
 * address, so that attacker and honest nodes can sit in different /24s), or on the in-memory hub on virtual
 * time where a real socket adds nothing. A recording transport shows what a node put on the wire.
 */
import { Dht, type DhtOptions } from "../../../src/dht/dht.ts";
import type { Endpoint } from "../../../src/dht/codec.ts";
import type { DatagramHandler, DatagramTransport } from "../../../src/dht/transport/types.ts";
import { UdpTransport } from "../../../src/dht/transport/udp.ts";
import { generateIdentity } from "../../../src/identity/identity.ts";

/** Starts Dht nodes on loopback and stops every one of them at the end. */
export function udpNodes() {
  const started: Dht[] = [];
  return {
    async node(o: Partial<DhtOptions> & { address?: string; wrap?: (t: DatagramTransport) => DatagramTransport } = {}): Promise<Dht> {
      const { address, wrap, ...rest } = o;
      const udp = await UdpTransport.open(address ?? "127.0.0.1", 0);
      const dht = new Dht({ identity: generateIdentity(), ...rest, transport: wrap ? wrap(udp) : udp });
      started.push(dht);
      await dht.start();
      return dht;
    },
    async stopAll(): Promise<void> {
      await Promise.all(started.splice(0).map((d) => d.stop()));
    },
  };
}

export function endpointOf(d: Dht): Endpoint {
  return { address: d.opts.transport.address, port: d.port };
}

/** A transport that keeps a copy of every datagram it sends (what an observer on the path sees). */
export class RecordingTransport implements DatagramTransport {
  readonly sent: { data: Uint8Array; to: Endpoint }[] = [];
  constructor(private readonly inner: DatagramTransport) {}
  get address(): string {
    return this.inner.address;
  }
  get port(): number {
    return this.inner.port;
  }
  send(data: Uint8Array, address: string, port: number): void {
    this.sent.push({ data: data.slice(), to: { address, port } });
    this.inner.send(data, address, port);
  }
  onDatagram(handler: DatagramHandler): void {
    this.inner.onDatagram(handler);
  }
  close(): void {
    this.inner.close();
  }
}
