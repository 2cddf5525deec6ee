/**
 * A hostile node that asks others to run replicas (findings 3 and 14 of the hostile suite): the
 * project's own peer network and request bodies, with whatever owner key, manifest, image and env the
 * attack needs. The attacks built on it (replicate-flood.ts, manifest-forgery.ts, replica-laundering.ts,
 * replica-name-collision.ts) each perform one attack once or at a rate; test/hostile/ calls them once
 * against a node on loopback, `icon bench hostile` at full rate on the testbed.
 */
import { toIconError } from "../../errors.ts";
import type { Identity } from "../../identity/identity.ts";
import type { PeerEndpoint, PeerNetwork } from "../../peer/network.ts";
import { OP, type ImageRef, type ReplicateResult } from "../../peer/ops.ts";
import { signManifest, type SignedManifest } from "../../yard/manifest.ts";
import type { Policy } from "../../yard/protocol.ts";

export type { AttackReport, Outcome } from "./report.ts";

export interface ReplicateAsk {
  /** The ICON's name as the attacker claims it runs it (the replica's name derives from it). */
  icon: string;
  image: ImageRef;
  env?: Record<string, string>;
  /** Default: a manifest the attacker signs itself for this image and env. */
  manifest?: SignedManifest;
  policy?: Policy;
  state?: unknown;
}

export type Answer = { ok: true; result: ReplicateResult } | { ok: false; code: string; message: string };

export class ReplicateAttacker {
  constructor(
    readonly network: PeerNetwork,
    /** The key the attacker signs its own manifests with (a fresh one costs nothing). */
    readonly owner: Identity,
  ) {}

  manifest(ask: Pick<ReplicateAsk, "icon" | "image" | "env" | "policy">): SignedManifest {
    return signManifest(this.owner, { name: ask.icon, imageId: ask.image.id, env: ask.env ?? {}, policy: ask.policy ?? {} });
  }

  /** One replicate request; the answer or the refusal's code, never a throw. */
  async replicate(target: PeerEndpoint, ask: ReplicateAsk, timeoutMs = 30_000): Promise<Answer> {
    const env = ask.env ?? {};
    const body = { icon: ask.icon, image: ask.image, env, policy: ask.policy ?? {}, manifest: ask.manifest ?? this.manifest(ask), state: ask.state };
    try {
      const conn = await this.network.connect(target);
      return { ok: true, result: await conn.request<ReplicateResult>(OP.replicate, body, { timeoutMs }) };
    } catch (e) {
      const err = toIconError(e);
      return { ok: false, code: err.code, message: err.message };
    }
  }
}
