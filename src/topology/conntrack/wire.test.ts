import { describe, expect, test } from "bun:test";
import { IconError } from "../../errors.ts";
import CAPTURES from "./captures.json";
import { parseEvents, type NewConnection } from "./wire.ts";

const [TCP4, TCP6, UDP4, ICMP4] = [CAPTURES.tcp4.hex, CAPTURES.tcp6.hex, CAPTURES.udp4.hex, CAPTURES.icmp4.hex];

const bytes = (...hex: string[]) => new Uint8Array(Buffer.from(hex.join(""), "hex"));

function parse(b: Uint8Array): { conns: NewConnection[]; errors: IconError[] } {
  const errors: IconError[] = [];
  return { conns: parseEvents(b, (e) => errors.push(e)), errors };
}

describe("conntrack new-connection events", () => {
  test("a TCP SYN over IPv4: addresses and ports of the original direction", () => {
    expect(parse(bytes(TCP4))).toEqual({ conns: [{ family: 4, protocol: 6, source: "127.0.0.1", destination: "127.0.0.1", sourcePort: 34942, destinationPort: 46327 }], errors: [] });
  });

  test("IPv6", () => {
    expect(parse(bytes(TCP6)).conns).toEqual([{ family: 6, protocol: 6, source: "::1", destination: "::1", sourcePort: 57610, destinationPort: 35635 }]);
  });

  test("UDP, and ICMP whose tuple has no ports", () => {
    expect(parse(bytes(UDP4, ICMP4)).conns).toEqual([
      { family: 4, protocol: 17, source: "127.0.0.1", destination: "127.0.0.2", sourcePort: 59273, destinationPort: 9 },
      { family: 4, protocol: 1, source: "127.0.0.1", destination: "127.0.0.3", sourcePort: 0, destinationPort: 0 },
    ]);
  });

  test("an update (no NLM_F_CREATE) or a destroy is not a new connection", () => {
    const update = bytes(TCP4);
    update[7] = 0; // flags 0x0000
    const destroy = bytes(TCP4);
    destroy[4] = 2; // IPCTNL_MSG_CT_DELETE
    expect(parse(update)).toEqual({ conns: [], errors: [] });
    expect(parse(destroy)).toEqual({ conns: [], errors: [] });
  });

  test("a truncated datagram is an INVALID_INPUT error, and the messages before it still count", () => {
    const whole = bytes(UDP4, TCP4);
    const { conns, errors } = parse(whole.subarray(0, whole.length - 20));
    expect(conns.map((c) => c.protocol)).toEqual([17]);
    expect(errors.map((e) => e.code)).toEqual(["INVALID_INPUT"]);
  });

  test("an attribute longer than its message is an error for that message alone", () => {
    const b = bytes(TCP4, UDP4);
    b.set([0xff, 0x00], 20); // CTA_TUPLE_ORIG claims 255 bytes
    const { conns, errors } = parse(b);
    expect(conns.map((c) => c.protocol)).toEqual([17]);
    expect(errors[0]!.message).toContain("overruns");
  });

  test("a tuple without its address attribute is an error", () => {
    const b = bytes(TCP4);
    b[26] = 9; // CTA_TUPLE_IP renamed to an unknown type
    expect(parse(b).errors[0]!.message).toContain("no tuple address");
  });

  test("garbage and empty input", () => {
    expect(parse(new Uint8Array(0))).toEqual({ conns: [], errors: [] });
    expect(parse(new Uint8Array(40).fill(0xff)).errors.length).toBe(1);
  });
});
