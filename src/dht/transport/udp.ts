/**
 * The real transport: Bun UDP sockets. Bound to 0.0.0.0 and :: it is one dual-stack socket on "::" (IPv4
 * peers arrive as ::ffff:a.b.c.d and are reported as plain IPv4); bound to specific addresses, one socket
 * per family on the same port, each datagram sent from the socket of its destination's family.
 */
import { networkInterfaces } from "node:os";
import { IconError } from "../../errors.ts";
import { familyOf, hostPort } from "../../util/ipv6.ts";
import type { DatagramHandler, DatagramTransport } from "./types.ts";

type Socket = Bun.udp.Socket<"uint8array">;

export class UdpTransport implements DatagramTransport {
  private handler: DatagramHandler = () => {};
  /** Datagrams the kernel refused to send (buffer full, unreachable, a family not bound). */
  sendErrors = 0;
  /**
   * ICMP errors the kernel reported on the socket (port unreachable from a stopped peer, ...): counted,
   * not printed; the RPC layer already treats the lost answer as a timeout.
   */
  receiveErrors = 0;
  private v4?: Socket;
  private v6?: Socket;

  private constructor(readonly address: string, readonly address6: string | undefined) {}

  /**
   * Binds hostname:port (port 0 picks a free one), and hostname6 on the same port when given; "0.0.0.0"
   * with "::" is one dual-stack socket. A taken port is a CONFLICT error that says what to do.
   */
  static async open(hostname: string, port: number, hostname6?: string): Promise<UdpTransport> {
    if (hostname === "0.0.0.0" && hostname6 === "::") {
      // Announce IPv6 (Flag.DUAL_STACK) only where the host has an address beyond its own link.
      const t = new UdpTransport("0.0.0.0", hasRoutableIPv6() ? "::" : undefined);
      const s = await t.bind("::", port).catch(() => undefined); // a kernel without IPv6
      if (!s) return UdpTransport.open("0.0.0.0", port);
      t.v4 = t.v6 = s;
      return t;
    }
    const six = familyOf(hostname) === 6;
    const t = new UdpTransport(hostname, six ? undefined : hostname6);
    const first = await t.bind(hostname, port);
    if (six) t.v6 = first;
    else t.v4 = first;
    if (hostname6 !== undefined && !six) {
      try {
        t.v6 = await t.bind(hostname6, first.port);
      } catch (e) {
        first.close();
        throw e;
      }
    }
    return t;
  }

  private async bind(hostname: string, port: number): Promise<Socket> {
    try {
      return await Bun.udpSocket({
        hostname,
        port,
        binaryType: "uint8array",
        socket: {
          data: (_s, data, rport, raddr, flags) => this.handler(data, raddr.startsWith("::ffff:") ? raddr.slice(7) : raddr, rport, flags?.truncated === true),
          error: () => {
            this.receiveErrors++;
          },
        },
      });
    } catch (e) {
      const code = (e as { code?: string }).code;
      const where = hostPort(hostname, port);
      if (code === "EADDRINUSE")
        throw new IconError("CONFLICT", `UDP port ${where} is already in use`, "Pick another --dht-port, or 0 for any free port.", { cause: e });
      if (code === "EADDRNOTAVAIL")
        throw new IconError("CONFIG", `cannot bind ${hostname}: no such local address`, "Set --listen (--listen6) to an address of this machine, or 0.0.0.0 (::).", { cause: e });
      throw new IconError("FAILED", `cannot open UDP socket ${where}: ${(e as Error).message}`, "Check --listen, --listen6 and --dht-port.", { cause: e });
    }
  }

  get port(): number {
    return (this.v4 ?? this.v6)!.port;
  }

  send(data: Uint8Array, address: string, port: number): void {
    const socket = familyOf(address) === 6 ? this.v6 : this.v4;
    try {
      if (!socket?.send(data, port, address)) this.sendErrors++;
    } catch {
      this.sendErrors++;
    }
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  close(): void {
    this.v4?.close();
    if (this.v6 !== this.v4) this.v6?.close();
  }
}

/** Whether an interface has an IPv6 address other than loopback and link-local. */
function hasRoutableIPv6(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.family === "IPv6" && !a.internal && !a.address.toLowerCase().startsWith("fe80")));
}
