/**
 * The migrations this node made as the source (its ICONs' replicate calls), newest last: kept in memory,
 * the last `limit` of them, for the dashboard's timeline, GET /v1/migrations and the metrics. Listeners
 * hear of each one as it ends.
 */
import type { Endpoint } from "../yard/protocol.ts";

export interface MigrationRecord {
  /** Increasing within one run of the node. */
  seq: number;
  icon: string;
  /** The replica's id (nodeId/name) and its node. */
  replica: string;
  target: string;
  /**
   * How the target ran the replica: direct, hot, prefetched, cold (more may come, e.g. warm); "unknown"
   * when the replicate failed before the target said. Shown as it is.
   */
  mode: string;
  ok: boolean;
  error?: string;
  /** Where clients reach the replica, once it runs. */
  endpoint?: Endpoint;
  startedAt: string;
  /**
   * Phases in ms: total as the source saw it (request to answer), and what the target reported of it:
   * image (fetching missing layers), start (container up to ready), target (its whole part).
   */
  ms: { total: number; image?: number; start?: number; target?: number };
  /** Image bytes shipped to the target for this replica (0 unless cold). */
  bytes: number;
}

export type NewMigration = Omit<MigrationRecord, "seq">;

export class MigrationHistory {
  private readonly records: MigrationRecord[] = [];
  private readonly listeners = new Set<(r: MigrationRecord) => void>();
  private seq = 0;

  constructor(readonly limit = 50) {}

  add(m: NewMigration): MigrationRecord {
    const r = { seq: ++this.seq, ...m };
    this.records.push(r);
    if (this.records.length > this.limit) this.records.shift();
    for (const fn of this.listeners) {
      try {
        fn(r);
      } catch {
        // a broken listener must not lose the record for the others
      }
    }
    return r;
  }

  /** Oldest first. */
  list(): MigrationRecord[] {
    return [...this.records];
  }

  onRecord(fn: (r: MigrationRecord) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }
}
