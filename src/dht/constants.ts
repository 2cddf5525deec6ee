/**
 * The DHT's constants in one place: sizes in bytes, times in milliseconds. Kademlia's own numbers cite
 * Maymounkov & Mazières, "Kademlia: A Peer-to-peer Information System Based on the XOR Metric" (2002).
 */

/** Bits and bytes of node ids and keys (paper §2.1: 160-bit identifiers). */
export const ID_BITS = 160;
export const ID_BYTES = 20;

/** Bucket size and replication factor (paper §2.2: k = 20). */
export const K = 20;
/** Lookup parallelism (paper §2.3: alpha = 3). */
export const ALPHA = 3;

/**
 * Largest datagram sent or accepted: the IPv6 minimum MTU (1280) minus the IPv6 and UDP headers, the figure
 * DNS settled on (DNS flag day 2020) so that no datagram is ever fragmented on any path.
 */
export const MAX_DATAGRAM = 1232;

/**
 * A contact is stale after this many RPCs in a row got no answer (paper §4.1 counts failures instead of
 * evicting on one loss; it uses 5 unretried RPCs, ours are already retried RPC_ATTEMPTS times each).
 * A stale contact is replaced only when the replacement cache has a live one (paper §4.1).
 */
export const STALE_AFTER_FAILURES = 3;
/** Replacement cache entries per bucket (paper §4.1; its size is not fixed there). */
export const REPLACEMENT_CACHE = K;
/**
 * Ping the least-recently-seen contact of a full bucket only if it has been silent this long: a busy node
 * meets newcomers all the time, and checking a contact heard from a minute ago tells nothing new.
 */
export const LRS_PING_AFTER_MS = 120_000;

/** Buckets not touched by a lookup for this long are refreshed (paper §2.3: one hour). */
export const REFRESH_INTERVAL_MS = 60 * 60_000;
/** How often the node checks for buckets to refresh and records to expire. */
export const MAINTENANCE_TICK_MS = 60_000;

/**
 * Retransmission timeouts (rtt.ts): a contact's lowest recent RTT plus the delay above such floors over all
 * contacts, RFC 6298-smoothed. The minimum is far below RFC 6298's 1 s because a DHT query is idempotent and
 * cheap: a spurious retransmission costs one datagram (and the first attempt's reply still counts), a late
 * one stalls a lookup. Unknown contacts start from the estimate over all contacts.
 */
export const INITIAL_RTO_MS = 1000;
export const MIN_RTO_MS = 40;
export const MAX_RTO_MS = 4000;
/** Attempts per RPC (the first send plus retransmissions with doubled timeouts). */
export const RPC_ATTEMPTS = 3;

/** How long a record lives when its publisher does not say otherwise, and how often the publisher refreshes it. */
export const DEFAULT_RECORD_TTL_MS = 60 * 60_000;
export const REPUBLISH_FRACTION = 1 / 3;
/** Records that claim to live longer than this are refused (paper §2.5 republishes within 24 h). */
export const MAX_RECORD_TTL_MS = 24 * 60 * 60_000;
/** Tolerated clock difference between a publisher and a storing node. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Storage bounds: distinct keys and total record bytes held for others. */
export const STORE_MAX_KEYS = 20_000;
export const STORE_MAX_BYTES = 16 * 1024 * 1024;

/** Address tokens (see token.ts): secret rotation period; a token is accepted for two periods. */
export const TOKEN_ROTATE_MS = 5 * 60_000;
/** A client stops trusting a token it holds a little before the responder would stop accepting it. */
export const TOKEN_USE_MS = TOKEN_ROTATE_MS - 30_000;

/** Requests per second (and burst) answered per source address and per source IP. */
export const RATE_PER_ADDRESS = 200;
export const BURST_PER_ADDRESS = 400;
export const RATE_PER_IP = 2000;
export const BURST_PER_IP = 4000;

/** Distinct peers that must report the same external address before the node trusts it. */
export const EXTERNAL_ADDRESS_QUORUM = 3;

/** Contacts saved in the data dir for the next start. */
export const SAVED_CONTACTS = 200;
/** How often the routing table is saved while it changes. */
export const SAVE_INTERVAL_MS = 30_000;
/** First save this soon after the node first learns of a peer (a kill -9 soon after joining keeps it). */
export const FIRST_SAVE_MS = 2_000;
/** Retry an unanswered bootstrap after this long, doubling up to the maximum. */
export const BOOTSTRAP_RETRY_MS = 2_000;
export const BOOTSTRAP_RETRY_MAX_MS = 60_000;

/** Verification pings of new contacts in flight at once (each is one datagram and one signature). */
export const MAX_VERIFY_IN_FLIGHT = 32;

/**
 * Reflection (finding 12): an address that has never answered us may be a victim named by a hostile NODES
 * reply. Requests to it are padded no further than a NODES reply needs, sent at most UNVERIFIED_ATTEMPTS
 * times, and all such datagrams to one IP share a budget: a burst, then one per 10 s. Bootstrap nodes,
 * saved neighbours and this node's own IP are exempt.
 */
export const UNVERIFIED_ATTEMPTS = 2;
export const UNVERIFIED_BURST = 4;
export const UNVERIFIED_PER_SECOND = 0.1;
