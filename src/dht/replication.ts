/**
 * Where records go (paper §2.3, §2.5): a publisher stores at the k closest nodes a FIND_NODE lookup finds
 * (and keeps a copy itself when it is one of them); records a lookup brings back count only if they verify;
 * and a node that learns of a new contact closer to a key it holds hands that contact the key's records,
 * so data follows the network as nodes join.
 */
import type { Clock } from "../util/clock.ts";
import { MsgType, StoreStatus, type Body } from "./codec.ts";
import type { DhtCounters } from "./counters.ts";
import type { OnEvent } from "./events.ts";
import { compareDistance, type Id } from "./id.ts";
import type { Contact } from "./k-bucket.ts";
import type { LookupResult } from "./lookup.ts";
import { verifyRecord, type RecordKind, type SignedRecord } from "./record.ts";
import { orderOf, type RecordStore } from "./record-store.ts";
import type { RoutingTable } from "./routing-table.ts";
import type { RequestOptions, RpcResult, RpcTarget } from "./rpc.ts";

export interface ReplicationDeps {
  self: Id;
  k: number;
  clock: Clock;
  table: RoutingTable;
  store: RecordStore;
  counters: DhtCounters;
  request(to: RpcTarget, body: Body, opts?: RequestOptions): Promise<RpcResult>;
  findNode(target: Id, onEvent?: OnEvent): Promise<LookupResult>;
}

/** Keys handed to one new contact at most, and the store size beyond which hand-over is skipped. */
const HAND_OVER_KEYS = 64;
const HAND_OVER_MAX_STORE = 5000;

/** How a store at the k closest went: `replicas` acknowledgements when it returned, and in the end. */
export interface StoreOutcomes {
  replicas: number;
  targets: number;
  quorum: number;
  complete: Promise<{ replicas: number; targets: number }>;
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(StoreStatus).map(([k, v]) => [v, k.toLowerCase()]));

export class Replication {
  constructor(private readonly d: ReplicationDeps) {}

  /**
   * Stores a signed record at the k closest nodes (and here, if this node is one of them). Resolves once a
   * quorum (half of the other closest nodes) acknowledged, or every target answered or gave up: one
   * slow or dead holder must not decide how long a put takes (at 5% loss most puts meet one lost
   * datagram among 20 STOREs). The others finish in the background; `complete` says how they ended.
   */
  async storeAtClosest(kind: RecordKind, key: Id, record: SignedRecord, onEvent?: OnEvent): Promise<StoreOutcomes> {
    const found = await this.d.findNode(key, onEvent);
    // The k closest to the key counting this node: when it is one of them it keeps a copy and stores at k-1
    // others, so every publisher picks the same k nodes (the k+1st would otherwise hold a partial list).
    const closer = found.closestAlive.filter((c) => compareDistance(key, c.id, this.d.self) < 0).length;
    const selfIn = closer < this.d.k;
    const targets = found.closestAlive.slice(0, selfIn ? this.d.k - 1 : this.d.k);
    const total = targets.length + (selfIn ? 1 : 0);
    let replicas = 0;
    if (selfIn) {
      const outcome = this.d.store.put(kind, key, record);
      if (outcome === "stored" || outcome === "unchanged") replicas++;
    }
    // Half of the other nodes, plus our own copy: a put never counts as done on this node's word alone.
    const quorum = Math.max(1, Math.ceil(targets.length / 2) + replicas);
    let reached!: () => void;
    const quorumReached = new Promise<void>((r) => (reached = r));
    if (replicas >= quorum) reached();
    const complete = Promise.all(
      targets.map((c) =>
        this.d.request(c, { type: MsgType.STORE, kind, key, record }).then((r) => {
          const status = r.ok && r.packet.body.type === MsgType.STORED ? r.packet.body.status : undefined;
          const ok = status === StoreStatus.STORED || status === StoreStatus.UNCHANGED;
          onEvent?.({ type: "store", to: `${c.address}:${c.port}`, ok, status: status === undefined ? "no answer" : STATUS_NAMES[status] });
          if (ok && ++replicas === quorum) reached();
        }),
      ),
    ).then(() => ({ replicas, targets: total }));
    await Promise.race([quorumReached, complete]);
    return { replicas, targets: total, quorum, complete };
  }

  /** The records of a VALUE reply that verify: signature, payload, not expired. The rest are counted. */
  validRecords(kind: RecordKind, key: Id, records: SignedRecord[]): SignedRecord[] {
    const nowS = this.d.clock.now() / 1000;
    return records.filter((r) => {
      let ok = r.expiresAt > nowS && verifyRecord(kind, key, r);
      if (ok) {
        try {
          orderOf(kind, r);
        } catch {
          ok = false;
        }
      }
      if (!ok) this.d.counters.dropped.badRecord++;
      return ok;
    });
  }

  /** A new contact entered the table: hand it the records it is now among the closest for (paper §2.5). */
  handOver(c: Contact): void {
    const { store, table, k, self } = this.d;
    if (store.keys === 0 || store.keys > HAND_OVER_MAX_STORE) return;
    let sent = 0;
    for (const e of store.entries()) {
      const closest = table.closest(e.key, k);
      if (!closest.includes(c)) continue;
      const nearestOther = closest.find((x) => x !== c);
      // Only the nearest holder hands it over, so a join draws one copy, not k.
      if (nearestOther && compareDistance(e.key, nearestOther.id, self) < 0) continue;
      for (const record of e.records) void this.d.request(c, { type: MsgType.STORE, kind: e.kind, key: e.key, record });
      if (++sent >= HAND_OVER_KEYS) break;
    }
  }
}
