/** The real transport: one Bun UDP socket. */
import { IconError } from "../../errors.ts";
import type { DatagramHandler, DatagramTransport } from "./types.ts";

export class UdpTransport implements DatagramTransport {
  private handler: DatagramHandler = () => {};
  /** Datagrams the kernel refused to send (buffer full, unreachable). */
  sendErrors = 0;
  /**
   * ICMP errors the kernel reported on the socket (port unreachable from a stopped peer, ...): counted,
   * not printed; the RPC layer already treats the lost answer as a timeout.
   */
  receiveErrors = 0;

  private constructor(private readonly socket: Bun.udp.Socket<"uint8array">) {}

  /** Binds hostname:port (port 0 picks a free one); a taken port is a CONFLICT error that says what to do. */
  static async open(hostname: string, port: number): Promise<UdpTransport> {
    let t: UdpTransport | undefined;
    try {
      const socket = await Bun.udpSocket({
        hostname,
        port,
        binaryType: "uint8array",
        socket: {
          data: (_s, data, rport, raddr, flags) => t?.handler(data, raddr, rport, flags?.truncated === true),
          error: () => {
            if (t) t.receiveErrors++;
          },
        },
      });
      t = new UdpTransport(socket);
      return t;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EADDRINUSE")
        throw new IconError("CONFLICT", `UDP port ${hostname}:${port} is already in use`, "Pick another --dht-port, or 0 for any free port.", { cause: e });
      if (code === "EADDRNOTAVAIL")
        throw new IconError("CONFIG", `cannot bind ${hostname}: no such local address`, "Set --listen to an address of this machine, or 0.0.0.0.", { cause: e });
      throw new IconError("FAILED", `cannot open UDP socket ${hostname}:${port}: ${(e as Error).message}`, "Check --listen and --dht-port.", { cause: e });
    }
  }

  get address(): string {
    return this.socket.hostname;
  }
  get port(): number {
    return this.socket.port;
  }

  send(data: Uint8Array, address: string, port: number): void {
    try {
      if (!this.socket.send(data, port, address)) this.sendErrors++;
    } catch {
      this.sendErrors++;
    }
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  close(): void {
    this.socket.close();
  }
}
