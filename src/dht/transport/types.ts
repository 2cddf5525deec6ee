/**
 * The datagram transport seam: the real one is a Bun UDP socket (udp.ts); tests and simulations use an
 * in-memory hub with per-link delay and loss (memory-hub.ts). The DHT sees only this interface.
 */
import { familyOf } from "../../util/ipv6.ts";

export type DatagramHandler = (data: Uint8Array, address: string, port: number, truncated: boolean) => void;

export interface DatagramTransport {
  /**
   * The bound address and port (the real port when 0 was asked): the IPv4 address ("0.0.0.0" for any)
   * when the transport has IPv4, else its IPv6 one.
   */
  readonly address: string;
  /** The bound IPv6 address ("::" for any) besides an IPv4 `address`; both on the same port. */
  readonly address6?: string;
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

/** The address families a transport sends to and receives from. */
export function familiesOf(t: { address: string; address6?: string }): { v4: boolean; v6: boolean } {
  const v6only = familyOf(t.address) === 6;
  return { v4: !v6only, v6: v6only || t.address6 !== undefined };
}
