/**
 * Finding 14 (replica names from 8 hex digits of the parent's node id): a node whose id shares those 32
 * bits with an honest parent's gets the same replica name on a target for an ICON of the same name, so
 * its replicate joins the honest one in flight (its state goes to the honest replica, the honest
 * replica's endpoint comes back to it) or finds that replica running. Ids are hashes of keys, so the
 * attacker grinds keys; this measures how fast, to say what a prefix of N hex digits costs.
 */
import { generateIdentity, type Identity } from "../../identity/identity.ts";
import { toHex } from "../../util/hex.ts";

export interface Grind {
  /** A key whose node id starts with the prefix, if one was found within the budget. */
  identity?: Identity;
  tries: number;
  perSecond: number;
  /** Expected seconds on one core to match `digits` hex digits at this rate. */
  expectedSec: (digits: number) => number;
}

export function grindNodeIdPrefix(prefix: string, budgetMs: number): Grind {
  const t0 = performance.now();
  let tries = 0;
  let identity: Identity | undefined;
  while (performance.now() - t0 < budgetMs) {
    const id = generateIdentity();
    tries++;
    if (toHex(id.nodeId).startsWith(prefix)) {
      identity = id;
      break;
    }
  }
  const perSecond = tries / Math.max((performance.now() - t0) / 1000, 1e-3);
  return { identity, tries, perSecond, expectedSec: (digits) => 16 ** digits / perSecond };
}
