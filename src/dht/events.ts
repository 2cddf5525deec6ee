/**
 * Typed progress events of long DHT operations (lookups, puts, announcements). The CLI draws them on
 * stderr, or prints them as JSON lines with --json; the local API streams them as NDJSON.
 */
export type DhtEvent =
  /** A query went out to a node (hop: 1 for nodes from our own table, n+1 for nodes named by a hop-n node). */
  | { type: "query"; to: string; id?: string; hop: number }
  /** A node answered with `closer` nodes we had not seen. */
  | { type: "reply"; from: string; hop: number; closer: number; rttMs: number }
  /** A query's first timeout passed, or it outlasted what answers take: the lookup moved on, the query is still retried. */
  | { type: "slow"; to: string }
  /** Nothing has answered for a while: this node looks cut off, and sends its unanswered queries again. */
  | { type: "cut-off"; quietMs: number }
  /** A query got no answer after all its attempts. */
  | { type: "timeout"; to: string }
  /** A node returned records for the key. */
  | { type: "value"; from: string; hop: number; records: number }
  /** The lookup ended. */
  | { type: "lookup-done"; found: boolean; ms: number; hops: number; messages: number; queried: number }
  /** A STORE was acknowledged (or not) by one of the closest nodes. */
  | { type: "store"; to: string; ok: boolean; status?: string }
  /** A put or announcement returned: `quorum` acknowledgements waited for, `replicas` had come. */
  | { type: "quorum"; replicas: number; targets: number; quorum: number; ms: number }
  /** Every STORE of a put has ended (after it returned, in the background). */
  | { type: "put-complete"; replicas: number; targets: number; ms: number };

export type OnEvent = (e: DhtEvent) => void;
