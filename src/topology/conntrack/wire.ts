/**
 * The conntrack event messages the SYN watcher reads (nfnetlink, subsystem ctnetlink): each new
 * connection the kernel tracks, with its original tuple (who connected to which address and port).
 * Spoken directly, like the testbed's nfnetlink_queue (src/testbed/delay/wire.ts), so the binary needs
 * no libnetfilter_conntrack. Layouts: linux/netlink.h (nlmsghdr, nlattr), linux/netfilter/nfnetlink.h
 * (nfgenmsg), linux/netfilter/nfnetlink_conntrack.h (CTA_*). Host byte order (little-endian on x86-64
 * and arm64) for headers, network order for addresses and ports.
 *
 * Everything in a message is checked against the bytes actually there: a truncated or malformed message
 * is an INVALID_INPUT error for that message alone, the rest of the datagram is still read.
 */
import { IconError } from "../../errors.ts";
import { formatIPv6 } from "../../util/ipv6.ts";

export const NFNL_SUBSYS_CTNETLINK = 1;
export const IPCTNL_MSG_CT_NEW = 0;
/** The multicast group of new connections (NFNLGRP_CONNTRACK_NEW = 1): bit 0 of sockaddr_nl's groups. */
export const NFNLGRP_CONNTRACK_NEW = 1;
const NLMSG_HDRLEN = 16;
const NFGENMSG_LEN = 4;
const NLMSG_ERROR = 2;
const NLM_F_CREATE = 0x400;
const NLA_TYPE_MASK = 0x3fff; // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER
const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1, CTA_IP_V4_DST = 2, CTA_IP_V6_SRC = 3, CTA_IP_V6_DST = 4;
const CTA_PROTO_NUM = 1, CTA_PROTO_SRC_PORT = 2, CTA_PROTO_DST_PORT = 3;
export const IPPROTO_TCP = 6;

/** A connection the kernel began tracking: its first packet's addresses and ports. */
export interface NewConnection {
  family: 4 | 6;
  protocol: number;
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
}

function bad(why: string): IconError {
  return new IconError("INVALID_INPUT", `malformed conntrack event: ${why}`);
}

/** The attributes in bytes [start, end) of `dv`, by type (the first of each type). */
function attributes(dv: DataView, start: number, end: number): Map<number, { off: number; len: number }> {
  const out = new Map<number, { off: number; len: number }>();
  let off = start;
  while (off + 4 <= end) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > end) throw bad(`attribute of length ${len} at ${off} overruns its ${end - off} bytes`);
    const type = dv.getUint16(off + 2, true) & NLA_TYPE_MASK;
    if (!out.has(type)) out.set(type, { off: off + 4, len: len - 4 });
    off += (len + 3) & ~3;
  }
  return out;
}

function need(attrs: Map<number, { off: number; len: number }>, type: number, len: number | undefined, what: string): { off: number; len: number } {
  const a = attrs.get(type);
  if (!a) throw bad(`no ${what}`);
  if (len !== undefined && a.len < len) throw bad(`${what} has ${a.len} bytes, needs ${len}`);
  return a;
}

function ipv4(dv: DataView, off: number): string {
  return `${dv.getUint8(off)}.${dv.getUint8(off + 1)}.${dv.getUint8(off + 2)}.${dv.getUint8(off + 3)}`;
}

/** One ctnetlink NEW message's original tuple; undefined for any other message (an update, a destroy, an ack). */
export function parseMessage(dv: DataView, off: number, len: number): NewConnection | undefined {
  const type = dv.getUint16(off + 4, true);
  const flags = dv.getUint16(off + 6, true);
  if (type !== ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW) || (flags & NLM_F_CREATE) === 0) return undefined;
  if (len < NLMSG_HDRLEN + NFGENMSG_LEN) throw bad(`message of ${len} bytes has no nfgenmsg`);
  const top = attributes(dv, off + NLMSG_HDRLEN + NFGENMSG_LEN, off + len);
  const orig = need(top, CTA_TUPLE_ORIG, undefined, "original tuple");
  const tuple = attributes(dv, orig.off, orig.off + orig.len);
  const ip = need(tuple, CTA_TUPLE_IP, undefined, "tuple address");
  const proto = need(tuple, CTA_TUPLE_PROTO, undefined, "tuple protocol");
  const ips = attributes(dv, ip.off, ip.off + ip.len);
  const protos = attributes(dv, proto.off, proto.off + proto.len);
  const protocol = dv.getUint8(need(protos, CTA_PROTO_NUM, 1, "protocol number").off);
  // Ports only for protocols that have them (TCP, UDP, SCTP...): ICMP's tuple holds an id and type instead.
  const port = (t: number) => (protos.has(t) ? dv.getUint16(need(protos, t, 2, "port").off, false) : 0);
  let family: 4 | 6, source: string, destination: string;
  if (ips.has(CTA_IP_V4_SRC)) {
    family = 4;
    source = ipv4(dv, need(ips, CTA_IP_V4_SRC, 4, "IPv4 source").off);
    destination = ipv4(dv, need(ips, CTA_IP_V4_DST, 4, "IPv4 destination").off);
  } else {
    family = 6;
    const v6 = (t: number, what: string) => formatIPv6(new Uint8Array(dv.buffer, dv.byteOffset + need(ips, t, 16, what).off, 16));
    source = v6(CTA_IP_V6_SRC, "IPv6 source");
    destination = v6(CTA_IP_V6_DST, "IPv6 destination");
  }
  return { family, protocol, source, destination, sourcePort: port(CTA_PROTO_SRC_PORT), destinationPort: port(CTA_PROTO_DST_PORT) };
}

/**
 * Every new connection in a datagram (or in several read back to back: messages carry their lengths).
 * `onError` hears each malformed message; reading goes on with the next one where its length allows.
 */
export function parseEvents(bytes: Uint8Array, onError: (e: IconError) => void): NewConnection[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NewConnection[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= bytes.byteLength) {
    const len = dv.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > bytes.byteLength) {
      onError(bad(`message length ${len} at ${off} does not fit the ${bytes.byteLength - off} bytes left`));
      break; // the rest cannot be framed
    }
    if (dv.getUint16(off + 4, true) !== NLMSG_ERROR) {
      try {
        const c = parseMessage(dv, off, len);
        if (c) out.push(c);
      } catch (e) {
        onError(e as IconError);
      }
    }
    off += (len + 3) & ~3;
  }
  return out;
}
