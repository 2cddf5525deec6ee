/**
 * The datagram transport seam: the real one is a Bun UDP socket (udp.ts); tests and simulations use an
 * in-memory hub with per-link delay and loss (memory-hub.ts). The DHT sees only this interface.
 */
export type DatagramHandler = (data: Uint8Array, address: string, port: number, truncated: boolean) => void;

export interface DatagramTransport {
  /** The bound address and port (the real port when 0 was asked). */
  readonly address: string;
  readonly port: number;
  /** Datagrams the kernel refused to send, and errors it reported on the socket (the real transport counts them). */
  readonly sendErrors?: number;
  readonly receiveErrors?: number;
  /** Sends one datagram; never throws (a datagram that cannot be sent is simply lost, as on the wire). */
  send(data: Uint8Array, address: string, port: number): void;
  /** Sets the receiver of every incoming datagram. */
  onDatagram(handler: DatagramHandler): void;
  close(): void;
}
