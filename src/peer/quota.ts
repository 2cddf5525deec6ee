/**
 * Quotas on the replicas this node runs for others: per owner (the manifest's key), per requesting node,
 * and for all together (config quotaPerOwner, quotaPerPeer, quotaTotal). Usage is summed from the
 * yard's replica records each time, so it cannot drift from what runs; a replica being created holds a
 * reservation until its record exists, so concurrent requests cannot both take the last share.
 * Bytes shipped per peer and hour are the image transfer's own quota (src/images), not counted here.
 */
import type { Quota } from "../config/quota.ts";
import { IconError } from "../errors.ts";

/** A replica's share: what its record says it may take. */
export interface Holding {
  /** The replica's name here. */
  name: string;
  owner: string;
  requester: string;
  imageId: string;
  memoryBytes: number;
  cpus: number;
}

export interface Quotas {
  perOwner: Quota;
  perPeer: Quota;
  total: Quota;
}

/** Each container's json log is capped at two files of 10 MB (engine/docker-engine.ts). */
export const LOG_BYTES = 20 * 1024 * 1024;

type Scope = keyof Quotas;
const SCOPE_NAMES: Record<Scope, string> = { perOwner: "owner", perPeer: "requesting node", total: "node-wide" };

export interface QuotaDeps {
  quotas: Quotas;
  /** The replicas this node runs now. */
  holdings: () => Holding[];
  /** An image's size on disk, undefined when it is not here (yet). */
  imageSize: (id: string) => Promise<number | undefined>;
}

export class QuotaLedger {
  /** Refusals since start, by the quota that refused. */
  readonly refused: Record<Scope, number> = { perOwner: 0, perPeer: 0, total: 0 };
  private readonly reserved = new Set<Holding>();

  constructor(private readonly d: QuotaDeps) {}

  /**
   * Reserves room for one more replica, or throws QUOTA saying which quota and what in it would be
   * exceeded. `replacing`: a holding the new replica takes the place of (not counted). The reservation
   * lasts until the returned function is called (once the replica's record exists, or it failed).
   */
  async reserve(next: Holding, replacing?: (h: Holding) => boolean): Promise<() => void> {
    const sizes = new Map<string, number>();
    const all = () => [...this.d.holdings().filter((h) => !replacing?.(h)), ...this.reserved, next];
    for (const id of new Set(all().map((h) => h.imageId))) sizes.set(id, (await this.d.imageSize(id)) ?? 0);
    // From here on nothing awaits: the check and the reservation happen together.
    const held = all();
    for (const scope of ["perOwner", "perPeer", "total"] as Scope[]) {
      const mine = held.filter((h) => scope === "total" || (scope === "perOwner" ? h.owner === next.owner : h.requester === next.requester));
      const over = exceeded(usage(mine, sizes), this.d.quotas[scope]);
      if (over.length) {
        this.refused[scope]++;
        throw new IconError("QUOTA", `a replica here would exceed this node's ${SCOPE_NAMES[scope]} quota: ${over.join(", ")}`,
          "The ICON stays where it is; the node takes more once some of these replicas are removed (its operator can raise quotaPerOwner, quotaPerPeer or quotaTotal).");
      }
    }
    this.reserved.add(next);
    return () => void this.reserved.delete(next);
  }
}

function usage(holdings: Holding[], sizes: Map<string, number>): Quota {
  const images = new Set(holdings.map((h) => h.imageId));
  return {
    replicas: holdings.length,
    memoryBytes: holdings.reduce((s, h) => s + h.memoryBytes, 0),
    cpus: holdings.reduce((s, h) => s + h.cpus, 0),
    diskBytes: [...images].reduce((s, id) => s + (sizes.get(id) ?? 0), 0) + holdings.length * LOG_BYTES,
  };
}

const MiB = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;

/** The dimensions of `used` above `quota`, said for a person. */
function exceeded(used: Quota, quota: Quota): string[] {
  const out: string[] = [];
  if (used.replicas > quota.replicas) out.push(`replicas ${used.replicas} > ${quota.replicas}`);
  if (used.memoryBytes > quota.memoryBytes) out.push(`memory ${MiB(used.memoryBytes)} > ${MiB(quota.memoryBytes)}`);
  if (used.cpus > quota.cpus + 1e-9) out.push(`cpus ${used.cpus} > ${quota.cpus}`);
  if (used.diskBytes > quota.diskBytes) out.push(`disk ${MiB(used.diskBytes)} > ${MiB(quota.diskBytes)}`);
  return out;
}
