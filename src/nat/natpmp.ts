/**
 * A NAT-PMP client (RFC 6886): 12-byte requests to the default gateway's port 5351, answered from the
 * same port, each from a socket of its own and retransmitted (gateway-udp.ts). PCP servers answer
 * version 0 requests too (RFC 6887 appendix A).
 */
import { IconError } from "../errors.ts";
import { askGateway } from "./gateway-udp.ts";
import type { PortMapper, Protocol } from "./port-mapper.ts";

const SERVER_PORT = 5351;
const OP = { external: 0, udp: 1, tcp: 2 } as const;
const RESULTS = ["success", "unsupported version", "not authorized or refused", "network failure", "out of resources", "unsupported opcode"];

export class NatPmp implements PortMapper {
  readonly via = "natpmp";
  readonly gateway: string;

  constructor(private readonly local: string, private readonly server: string) {
    this.gateway = `${server}:${SERVER_PORT}`;
  }

  async externalAddress(): Promise<string> {
    const r = await this.ask(Uint8Array.of(0, OP.external), OP.external, 12);
    return `${r[8]}.${r[9]}.${r[10]}.${r[11]}`;
  }

  async map(protocol: Protocol, internalPort: number, externalPort: number, lifetimeSec: number) {
    const req = new Uint8Array(12);
    const v = new DataView(req.buffer);
    req[1] = OP[protocol];
    v.setUint16(4, internalPort);
    v.setUint16(6, externalPort);
    v.setUint32(8, lifetimeSec);
    const r = await this.ask(req, OP[protocol], 16);
    const d = new DataView(r.buffer, r.byteOffset);
    return { externalPort: d.getUint16(10), lifetimeSec: d.getUint32(12) };
  }

  /** §3.4: a mapping request with lifetime 0 and external port 0 deletes the mapping. */
  async unmap(protocol: Protocol, internalPort: number): Promise<void> {
    await this.map(protocol, internalPort, 0, 0);
  }

  close(): void {}

  private ask(req: Uint8Array, op: number, size: number): Promise<Uint8Array> {
    return askGateway({
      local: this.local, server: this.server, port: SERVER_PORT, req, what: "NAT-PMP",
      accept: (msg, from) => {
        if (from.address !== this.server || from.port !== SERVER_PORT || msg.length < size || msg[0] !== 0 || msg[1] !== op + 128) return undefined;
        const result = (msg[2]! << 8) | msg[3]!;
        if (result !== 0) throw new IconError("FAILED", `the NAT-PMP server at ${this.gateway} refused: ${RESULTS[result] ?? `result ${result}`}`);
        return msg;
      },
    });
  }
}
