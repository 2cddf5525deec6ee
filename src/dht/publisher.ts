/**
 * This node's own records: signs them (sequence number = max(previous + 1, now in ms), so it grows across
 * restarts without being saved), stores them at the k closest nodes, and republishes them before they
 * expire until they are withdrawn (paper §2.5 has the publisher republish; we do it at a third of the
 * lifetime so that two lost rounds still leave the record alive).
 */
import { IconError } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import type { Logger } from "../log.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import { encodeAnnouncement, type AnnouncementFields } from "./announcement.ts";
import { MAX_RECORD_TTL_MS, REPUBLISH_FRACTION } from "./constants.ts";
import type { OnEvent } from "./events.ts";
import { keyOf, valueKey, type Id } from "./id.ts";
import type { SavedRecord } from "./persistence.ts";
import { RecordKind, signRecord, valuePayload, type SignedRecord } from "./record.ts";
import type { StoreOutcomes } from "./replication.ts";

/**
 * How a put or announcement went. It returns once a quorum of the closest nodes acknowledged it (or every
 * one answered or gave up): `replicas` of the `targets` closest hold it by then, after `ms`.
 */
export interface PutReport {
  key: string;
  replicas: number;
  targets: number;
  /** Replicas it waited for: half of the other closest nodes, plus this node's copy when it is one of them. */
  quorum: number;
  /** At least the quorum holds the record. */
  ok: boolean;
  ms: number;
  /** The STOREs still out when it returned end in the background; this is how they all ended. */
  complete: Promise<PutCompletion>;
}

export interface PutCompletion {
  replicas: number;
  targets: number;
  /** From the start of the put until the last target answered or gave up. */
  ms: number;
}

interface Own {
  kind: RecordKind;
  name: string;
  key: Id;
  ttlMs: number;
  value?: Uint8Array;
  fields?: AnnouncementFields;
  seq: number;
  timer?: TimerHandle;
}

export interface PublisherDeps {
  identity: Identity;
  clock: Clock;
  log: Logger;
  storeAtClosest(kind: RecordKind, key: Id, record: SignedRecord, onEvent?: OnEvent): Promise<StoreOutcomes>;
  /** The addresses and DHT port announcements carry unless their fields say otherwise. */
  self(): { address?: string; address6?: string; dhtPort: number };
  random(): number;
}

const slot = (kind: RecordKind, name: string) => `${kind}/${name}`;

export class Publisher {
  private readonly own = new Map<string, Own>();
  private stopped = false;

  constructor(private readonly d: PublisherDeps) {}

  get count(): number {
    return this.own.size;
  }

  /** Signs and stores a value or announcement, and keeps republishing it until withdrawn. */
  async publish(kind: RecordKind, name: string, content: { value?: Uint8Array; fields?: AnnouncementFields }, ttlMs: number, onEvent?: OnEvent): Promise<PutReport> {
    const ttl = Math.min(Math.max(ttlMs, 1000), MAX_RECORD_TTL_MS);
    const key = kind === RecordKind.VALUE ? valueKey(this.d.identity.nodeId, keyOf("value", name)) : keyOf("router", name);
    const prev = this.own.get(slot(kind, name));
    const own: Own = { kind, name, key, ttlMs: ttl, ...content, seq: prev?.seq ?? 0 };
    const record = this.sign(own); // throws before anything changes if the content is bad
    if (prev) this.d.clock.clearTimeout(prev.timer);
    this.own.set(slot(kind, name), own);
    this.schedule(own);
    return this.push(own, record, onEvent);
  }

  private payload(own: Own): Uint8Array {
    if (own.value) return valuePayload(keyOf("value", own.name), own.value);
    const f = own.fields!;
    const self = this.d.self();
    // Both addresses come from the fields, or both from the node: a caller that names where it is announced
    // (reachability verdicts) is not second-guessed by an address it left out.
    const { address, address6 } = f.address ? f : self;
    if (!address)
      throw new IconError("FAILED", "this node does not know its external address yet, so it cannot announce itself",
        "Set --advertise (or --listen to a specific address), or retry once peers have answered.");
    return encodeAnnouncement({ address, ...(address6 ? { address6 } : {}), dhtPort: f.dhtPort ?? self.dhtPort, peerPort: f.peerPort, rttMs: f.rttMs, hops: f.hops, timestamp: f.timestamp ?? Math.round(this.d.clock.now()), price: f.price });
  }

  private sign(own: Own): SignedRecord {
    const now = this.d.clock.now();
    const payload = this.payload(own);
    own.seq = Math.max(own.seq + 1, Math.floor(now));
    return signRecord(this.d.identity, own.kind, own.key, { seq: own.seq, expiresAt: Math.ceil((now + own.ttlMs) / 1000), payload });
  }

  private async push(own: Own, record: SignedRecord, onEvent?: OnEvent): Promise<PutReport> {
    const started = this.d.clock.now();
    const { replicas, targets, quorum, complete } = await this.d.storeAtClosest(own.kind, own.key, record, onEvent);
    const ms = this.d.clock.now() - started;
    const all = complete.then((c) => {
      const done = { ...c, ms: this.d.clock.now() - started };
      onEvent?.({ type: "put-complete", ...done });
      return done;
    });
    onEvent?.({ type: "quorum", replicas, targets, quorum, ms });
    return { key: own.name, replicas, targets, quorum, ok: replicas >= quorum, ms, complete: all };
  }

  private schedule(own: Own): void {
    if (this.stopped) return;
    const jitter = 0.9 + this.d.random() * 0.2; // spread the republishing of many records
    own.timer = this.d.clock.setTimeout(() => {
      if (this.own.get(slot(own.kind, own.name)) !== own) return;
      let record: SignedRecord;
      try {
        record = this.sign(own);
      } catch (e) {
        this.d.log.warn("cannot republish", { key: own.name, error: (e as Error).message });
        this.schedule(own);
        return;
      }
      this.schedule(own);
      this.push(own, record).then(
        (r) => !r.ok && this.d.log.warn("republish reached few nodes", { key: own.name, replicas: r.replicas, targets: r.targets }),
        (e) => this.d.log.warn("republish failed", { key: own.name, error: (e as Error).message }),
      );
    }, own.ttlMs * REPUBLISH_FRACTION * jitter);
  }

  /** Stops republishing; the stored copies expire on their own. */
  withdraw(kind: RecordKind, name: string): boolean {
    const own = this.own.get(slot(kind, name));
    if (!own) return false;
    this.d.clock.clearTimeout(own.timer);
    this.own.delete(slot(kind, name));
    return true;
  }

  names(kind: RecordKind): string[] {
    return [...this.own.values()].filter((o) => o.kind === kind).map((o) => o.name);
  }

  saved(): SavedRecord[] {
    return [...this.own.values()].map((o) => ({
      kind: o.kind,
      name: o.name,
      ttlMs: o.ttlMs,
      value: o.value ? Buffer.from(o.value).toString("base64") : undefined,
      fields: o.fields as Record<string, unknown> | undefined,
    }));
  }

  /** Republishes records saved by a previous run (in the background). */
  restore(saved: SavedRecord[]): void {
    for (const s of saved) {
      const content = s.value !== undefined ? { value: new Uint8Array(Buffer.from(s.value, "base64")) } : { fields: s.fields as unknown as AnnouncementFields };
      this.publish(s.kind, s.name, content, s.ttlMs).catch((e) => this.d.log.warn("cannot republish a saved record", { key: s.name, error: (e as Error).message }));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const o of this.own.values()) this.d.clock.clearTimeout(o.timer);
  }
}
