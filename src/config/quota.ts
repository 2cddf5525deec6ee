/**
 * The format of the quota settings (quotaPerOwner, quotaPerPeer, quotaTotal): a list such as
 * `replicas=8,memory=2g,cpus=8,disk=4g`. A dimension left out keeps its default.
 */
import { IconError } from "../errors.ts";
import { parseBytes } from "../yard/container-spec.ts";

/** What the replicas of one owner, of one requesting node, or of all together may take on this node. */
export interface Quota {
  replicas: number;
  memoryBytes: number;
  /** Sum of the replicas' CPU limits. */
  cpus: number;
  /** Their images (each counted once) and their capped logs. */
  diskBytes: number;
}

const DIMENSIONS = ["replicas", "memory", "cpus", "disk"] as const;
export type QuotaDimension = (typeof DIMENSIONS)[number];

/** Parses a quota list over `base`; a string says what is wrong. */
export function parseQuota(list: readonly string[], base?: Quota): Quota | string {
  const q: Partial<Quota> = { ...base };
  for (const item of list) {
    const [dim, raw = ""] = item.split("=", 2).map((s) => s.trim());
    switch (dim as QuotaDimension) {
      case "replicas":
      case "cpus": {
        const n = Number(raw);
        if (raw === "" || !Number.isFinite(n) || n < 0 || (dim === "replicas" && !Number.isInteger(n))) return `"${item}": ${dim} must be a ${dim === "replicas" ? "whole " : ""}number >= 0`;
        q[dim as "replicas" | "cpus"] = n;
        break;
      }
      case "memory":
      case "disk": {
        const n = raw === "0" ? 0 : parseBytes(raw);
        if (n === undefined) return `"${item}": ${dim} must be a size such as 2g or 512m`;
        q[dim === "memory" ? "memoryBytes" : "diskBytes"] = n;
        break;
      }
      default:
        return `"${item}" is not DIMENSION=VALUE with DIMENSION one of ${DIMENSIONS.join(", ")}`;
    }
  }
  const missing = base ? [] : DIMENSIONS.filter((d) => q[d === "memory" ? "memoryBytes" : d === "disk" ? "diskBytes" : d] === undefined);
  return missing.length ? `needs ${missing.join(", ")}` : (q as Quota);
}

/** A quota setting's value over its defaults (a list that names only some dimensions keeps the rest). */
export function quotaFrom(list: readonly string[], defaults: readonly string[]): Quota {
  const base = parseQuota(defaults);
  const q = typeof base === "string" ? base : parseQuota(list, base);
  if (typeof q === "string") throw new IconError("CONFIG", `quota ${list.join(",")}: ${q}`, "Write a quota as replicas=8,memory=2g,cpus=8,disk=4g.");
  return q;
}

/** The schema's check of a quota setting. */
export function quotaProblem(list: readonly string[], defaults: readonly string[]): string | undefined {
  const base = parseQuota(defaults);
  const q = typeof base === "string" ? base : parseQuota(list, base);
  return typeof q === "string" ? q : undefined;
}
