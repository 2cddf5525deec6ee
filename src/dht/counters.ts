/**
 * Counters the DHT keeps and `icon node status` shows: traffic, and every datagram dropped by reason
 * (the fuzz test reads them to see that hostile input was refused, not crashed on).
 */
export function newCounters() {
  return {
    rx: 0,
    tx: 0,
    rxBytes: 0,
    txBytes: 0,
    requestsAnswered: 0,
    repliesMatched: 0,
    /** Replies that came after their request had timed out (still an RTT sample and a live contact). */
    lateReplies: 0,
    retransmits: 0,
    rpcTimeouts: 0,
    lookups: 0,
    storesAccepted: 0,
    dropped: {
      /** Larger than MAX_DATAGRAM (checked before decoding). */
      oversized: 0,
      /** Failed to decode: bad magic, type, flag, length, field or padding. */
      malformed: 0,
      /** Over the per-address or per-IP request rate. */
      rateLimited: 0,
      /** A reply nobody asked for (unknown or expired request id). */
      unsolicited: 0,
      /** A reply from another address than the request went to. */
      spoofed: 0,
      /** An id proof that does not verify. */
      badProof: 0,
      /** A record whose signature or payload does not verify. */
      badRecord: 0,
      /** A record older than (or a replay of) what is held for its publisher. */
      staleRecord: 0,
      /** A record refused because storage is full of closer keys. */
      storeFull: 0,
      /** A datagram from our own id (a loop, or someone replaying us). */
      fromSelf: 0,
      /** A STORE from an address that did not echo a valid token (asked to come back with one). */
      storeNoToken: 0,
    },
    /** What this node declined to do, by reason (finding 12 and 11 of the security review). */
    refused: {
      /** Datagrams not sent to an address that never answered: its IP's budget was spent (reflection). */
      unverifiedSends: 0,
      /** Contacts from NODES replies not queried: a private or reserved range this node is not on. */
      specialRange: 0,
    },
  };
}

export type DhtCounters = ReturnType<typeof newCounters>;

export function totalDropped(c: DhtCounters): number {
  return Object.values(c.dropped).reduce((a, b) => a + b, 0);
}
