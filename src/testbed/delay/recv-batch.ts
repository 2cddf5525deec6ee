/**
 * Reads up to BATCH queued netlink datagrams with one recvmmsg() call, so a burst of packets costs one
 * system call instead of one per packet plus a final EAGAIN. Structures are laid out once, by hand, for
 * LP64 Linux: struct mmsghdr = struct msghdr (56 bytes) + unsigned msg_len (+4 padding) = 64 bytes;
 * struct iovec = { void *base; size_t len } = 16 bytes.
 */
import { ptr } from "bun:ffi";
import { EAGAIN, EINTR, MSG_DONTWAIT, errno, type Libc } from "./libc.ts";

export const BATCH = 32;
/** Room per datagram: a copy-meta packet message is about 100-200 bytes. */
const SLOT = 1024;
const MMSGHDR = 64;

export class RecvBatch {
  readonly data = new Uint8Array(BATCH * SLOT);
  readonly view = new DataView(this.data.buffer);
  private readonly hdrs = new Uint8Array(BATCH * MMSGHDR);
  private readonly hdrView = new DataView(this.hdrs.buffer);
  private readonly iovs = new Uint8Array(BATCH * 16);

  constructor() {
    const iovView = new DataView(this.iovs.buffer);
    const base = BigInt(ptr(this.data)), iovBase = BigInt(ptr(this.iovs));
    for (let i = 0; i < BATCH; i++) {
      iovView.setBigUint64(i * 16, base + BigInt(i * SLOT), true);
      iovView.setBigUint64(i * 16 + 8, BigInt(SLOT), true);
      const h = i * MMSGHDR;
      this.hdrView.setBigUint64(h + 16, iovBase + BigInt(i * 16), true); // msg_iov
      this.hdrView.setBigUint64(h + 24, 1n, true); // msg_iovlen
    }
  }

  /**
   * Reads what is queued on `fd` (all of it, in rounds of BATCH) and hands each datagram to `each`
   * as (offset in `data`, length). Returns the number of datagrams, or -errno on a real error.
   */
  drain(c: Libc, fd: number, each: (off: number, len: number) => void): number {
    let total = 0;
    for (;;) {
      const n = c.recvmmsg(fd, this.hdrs, BATCH, MSG_DONTWAIT, null);
      if (n < 0) {
        const e = errno(c);
        if (e === EINTR) continue;
        return e === EAGAIN ? total : -e;
      }
      for (let i = 0; i < n; i++) each(i * SLOT, this.hdrView.getUint32(i * MMSGHDR + 56, true));
      total += n;
      if (n < BATCH) return total;
    }
  }
}
