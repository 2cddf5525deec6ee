/**
 * The attacks on image shipping (findings 1, 2 and 9), as `icon bench hostile` runs them: each entry
 * names its finding and what refused / contained / succeeded mean, and runs the attack against a
 * target at the rate it is given (attempts back to back). test/hostile/ runs each once.
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import { endlessLayer } from "./endless-layer.ts";
import type { AttackOutcome } from "./image-peer.ts";
import { layerBomb } from "./layer-bomb.ts";
import { serveAnyImage } from "./serve-any-image.ts";
import { tagHijack } from "./tag-hijack.ts";

export interface ImageTarget {
  endpoint: PeerEndpoint;
  /** The image id a ref names on the target's engine (undefined: none). */
  imageOf(ref: string): Promise<string | undefined>;
  /** The target node's resident memory in bytes. */
  rss(): number;
  /** Tags the operator uses on the target (the runtime base, an app of theirs). */
  victimTags: string[];
  /** An image the target's engine holds that none of its ICONs runs, and one an ICON runs. */
  operatorImage: { id: string; diffIds: string[] };
  iconImage?: { id: string; diffIds: string[] };
}

export interface ImageAttack {
  finding: number;
  name: string;
  refused: string;
  contained: string;
  succeeded: string;
  run(target: ImageTarget, attempts: number): Promise<AttackOutcome>;
}

export const IMAGE_ATTACKS: ImageAttack[] = [
  {
    finding: 1, name: "tag-hijack", refused: "image not loaded", contained: "loaded by id only, victim tags untouched", succeeded: "a victim tag names the attacker's image",
    run: async (t, attempts) => {
      const offer = await tagHijack({ target: t.endpoint, victimTags: t.victimTags, entry: "offer", probe: t.imageOf, attempts });
      const replicate = await tagHijack({ target: t.endpoint, victimTags: t.victimTags, entry: "replicate", probe: t.imageOf, attempts });
      return merge(offer, replicate);
    },
  },
  {
    finding: 2, name: "layer-bomb", refused: "replicate failed, RSS bounded", contained: "-", succeeded: "RSS grew past the bound",
    run: async (t, attempts) => merge(await layerBomb({ target: t.endpoint, rss: t.rss, via: "layers", attempts }), await layerBomb({ target: t.endpoint, rss: t.rss, via: "inline", attempts })),
  },
  {
    finding: 2, name: "endless-layer", refused: "hung up before the attacker's cap, RSS bounded", contained: "-", succeeded: "took everything sent",
    run: (t, attempts) => endlessLayer({ target: t.endpoint, rss: t.rss, attempts }),
  },
  {
    finding: 9, name: "serve-any-image", refused: "NOT_FOUND or QUOTA", contained: "an ICON's image, within quota", succeeded: "an image no ICON runs was served",
    run: async (t, attempts) => {
      const any = await serveAnyImage({ target: t.endpoint, image: t.operatorImage, icon: false, attempts });
      return t.iconImage ? merge(any, await serveAnyImage({ target: t.endpoint, image: t.iconImage, icon: true, attempts })) : any;
    },
  },
];

function merge(a: AttackOutcome, b: AttackOutcome): AttackOutcome {
  return {
    attack: `${a.attack} + ${b.attack}`, finding: a.finding, attempts: a.attempts + b.attempts, refused: a.refused + b.refused,
    contained: a.contained + b.contained, succeeded: a.succeeded + b.succeeded, detail: [...a.detail, ...b.detail],
  };
}
