/**
 * The nfnetlink_queue protocol on a NETLINK_NETFILTER socket, by hand (linux/netfilter/nfnetlink_queue.h):
 * CONFIG messages bind a queue and set copy mode, length and flags; the kernel sends one PACKET message
 * per queued packet; a VERDICT_BATCH message accepts every packet of a queue up to an id. Pure byte
 * work, so it is unit-tested without root.
 *
 * Layout: nlmsghdr (16 bytes, host order) + nfgenmsg (family u8, version u8, res_id = queue number,
 * big-endian u16) + attributes (u16 len, u16 type, payload padded to 4). Attribute payloads are
 * big-endian.
 */

export const NFNL_SUBSYS_QUEUE = 3;
export const NFQNL_MSG_PACKET = 0;
export const NFQNL_MSG_CONFIG = 2;
export const NFQNL_MSG_VERDICT_BATCH = 3;
export const NLMSG_ERROR = 2;
export const NLM_F_REQUEST = 1;
export const NLM_F_ACK = 4;

export const NFQA_PACKET_HDR = 1;
export const NFQA_VERDICT_HDR = 2;
export const NFQA_CFG_CMD = 1;
export const NFQA_CFG_PARAMS = 2;
export const NFQA_CFG_QUEUE_MAXLEN = 3;
export const NFQA_CFG_MASK = 4;
export const NFQA_CFG_FLAGS = 5;
export const NFQNL_CFG_CMD_BIND = 1;
/** Copy packet metadata only: the delay never looks at the payload. */
export const NFQNL_COPY_META = 1;
/** Hand over GSO packets whole instead of making the kernel segment them first. */
export const NFQA_CFG_F_GSO = 4;
export const NF_ACCEPT = 1;
const NLA_TYPE_MASK = 0x3fff;

const align4 = (n: number) => (n + 3) & ~3;

/** Builds one nfnetlink_queue message with the given attributes. */
export function encodeMessage(msg: number, queue: number, flags: number, seq: number, attrs: [number, Uint8Array][]): Uint8Array {
  const len = 20 + attrs.reduce((s, [, p]) => s + align4(4 + p.length), 0);
  const buf = new Uint8Array(len);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, (NFNL_SUBSYS_QUEUE << 8) | msg, true);
  dv.setUint16(6, flags, true);
  dv.setUint32(8, seq, true);
  dv.setUint32(12, 0, true);
  buf[16] = 0; // AF_UNSPEC
  buf[17] = 0; // NFNETLINK_V0
  dv.setUint16(18, queue, false);
  let off = 20;
  for (const [type, payload] of attrs) {
    dv.setUint16(off, 4 + payload.length, true);
    dv.setUint16(off + 2, type, true);
    buf.set(payload, off + 4);
    off += align4(4 + payload.length);
  }
  return buf;
}

const be = (bytes: number, value: number) => {
  const b = new Uint8Array(bytes);
  const dv = new DataView(b.buffer);
  if (bytes === 4) dv.setUint32(0, value, false);
  else dv.setUint16(0, value, false);
  return b;
};

/** The config messages that bind `queue` in copy-meta mode with room for `maxLen` held packets. */
export function configMessages(queue: number, maxLen: number, seq: number): Uint8Array[] {
  const cmd = new Uint8Array([NFQNL_CFG_CMD_BIND, 0, 0, 0]); // command, pad, pf (unused since Linux 3.8)
  const params = new Uint8Array(5); // be32 copy_range = 0, u8 copy_mode
  params[4] = NFQNL_COPY_META;
  const flags = NLM_F_REQUEST | NLM_F_ACK;
  return [
    encodeMessage(NFQNL_MSG_CONFIG, queue, flags, seq, [[NFQA_CFG_CMD, cmd]]),
    encodeMessage(NFQNL_MSG_CONFIG, queue, flags, seq + 1, [[NFQA_CFG_PARAMS, params]]),
    encodeMessage(NFQNL_MSG_CONFIG, queue, flags, seq + 2, [[NFQA_CFG_QUEUE_MAXLEN, be(4, maxLen)]]),
    // No FAIL_OPEN: when the queue is full or nobody listens, packets drop rather than pass undelayed.
    encodeMessage(NFQNL_MSG_CONFIG, queue, flags, seq + 3, [[NFQA_CFG_FLAGS, be(4, NFQA_CFG_F_GSO)], [NFQA_CFG_MASK, be(4, NFQA_CFG_F_GSO)]]),
  ];
}

export const VERDICT_BYTES = 32;

/**
 * Writes a batch verdict (accept every packet of `queue` with an id up to `id`) at `off` of `buf`.
 * Several verdicts can go out in one send: the kernel walks every message in the datagram.
 */
export function writeBatchVerdict(dv: DataView, off: number, queue: number, id: number): number {
  dv.setUint32(off, VERDICT_BYTES, true);
  dv.setUint16(off + 4, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH, true);
  dv.setUint16(off + 6, NLM_F_REQUEST, true);
  dv.setUint32(off + 8, 0, true);
  dv.setUint32(off + 12, 0, true);
  dv.setUint32(off + 16, 0, true); // family, version
  dv.setUint16(off + 18, queue, false);
  dv.setUint16(off + 20, 12, true);
  dv.setUint16(off + 22, NFQA_VERDICT_HDR, true);
  dv.setUint32(off + 24, NF_ACCEPT, false);
  dv.setUint32(off + 28, id, false);
  return off + VERDICT_BYTES;
}

export type Parsed =
  | { kind: "packet"; queue: number; id: number }
  | { kind: "error"; errno: number; seq: number }
  | { kind: "other"; type: number };

/**
 * Walks the messages of one received datagram. Calls `onPacket` for each queued packet without
 * allocating (the hot path); returns the non-packet messages (acks, errors).
 */
export function parseMessages(dv: DataView, len: number, onPacket: (queue: number, id: number) => void, others?: Parsed[], start = 0): void {
  let off = start;
  len += start;
  while (off + 16 <= len) {
    const mlen = dv.getUint32(off, true);
    if (mlen < 16 || off + mlen > len) return;
    const type = dv.getUint16(off + 4, true);
    if (type === ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) && mlen >= 20) {
      const queue = dv.getUint16(off + 18, false);
      let a = off + 20;
      while (a + 4 <= off + mlen) {
        const alen = dv.getUint16(a, true);
        if (alen < 4) break;
        if ((dv.getUint16(a + 2, true) & NLA_TYPE_MASK) === NFQA_PACKET_HDR && alen >= 8) {
          onPacket(queue, dv.getUint32(a + 4, false));
          break;
        }
        a += align4(alen);
      }
    } else if (type === NLMSG_ERROR && mlen >= 20) {
      // nlmsgerr: int error (negative errno, 0 = ack), then the offending header.
      others?.push({ kind: "error", errno: -dv.getInt32(off + 16, true), seq: mlen >= 36 ? dv.getUint32(off + 28, true) : 0 });
    } else others?.push({ kind: "other", type });
    off += align4(mlen);
  }
}
