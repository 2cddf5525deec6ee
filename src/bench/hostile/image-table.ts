/**
 * The attacks on image shipping (findings 1, 2 and 9), with the outcome a node of this version gives
 * each: `icon bench hostile` runs them at full rate (`run`, attempts back to back) and reports refused /
 * contained / succeeded against `expected`; test/hostile/ runs each once. The entry's fields are those
 * of the admission attacks' table (admission-table.ts), plus `run`.
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import { endlessLayer } from "./endless-layer.ts";
import type { AttackOutcome, Verdict } from "./image-peer.ts";
import { layerBomb } from "./layer-bomb.ts";
import { serveAnyImage } from "./serve-any-image.ts";
import { tagHijack } from "./tag-hijack.ts";

/** What the image attacks need to know of the node they attack. */
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

export interface ImageAttackEntry {
  finding: number;
  attack: string;
  performedBy: string;
  expected: Verdict;
  because: string;
  run(target: ImageTarget, attempts: number): Promise<AttackOutcome>;
}

export const IMAGE_ATTACKS: readonly ImageAttackEntry[] = [
  {
    finding: 1, attack: "an offered image named debian:12, icon-runtime:<version>, the operator's tags", performedBy: "tag-hijack.ts tagHijack (offer)",
    expected: "contained", because: "loaded as icon.local/peer:<id> only",
    run: (t, attempts) => tagHijack({ target: t.endpoint, victimTags: t.victimTags, entry: "offer", probe: t.imageOf, attempts }),
  },
  {
    finding: 1, attack: "a replica of an image named with the operator's tags", performedBy: "tag-hijack.ts tagHijack (replicate)",
    expected: "contained", because: "loaded as icon.local/peer:<id> only; the replica runs it by id",
    run: (t, attempts) => tagHijack({ target: t.endpoint, victimTags: t.victimTags, entry: "replicate", probe: t.imageOf, attempts }),
  },
  {
    finding: 2, attack: "16 KB of zstd that inflates to 512 MiB, declared as 1 MiB, in image.layers", performedBy: "layer-bomb.ts layerBomb (layers)",
    expected: "refused", because: "INVALID_INPUT at the declared size; RSS bounded",
    run: (t, attempts) => layerBomb({ target: t.endpoint, rss: t.rss, via: "layers", attempts }),
  },
  {
    finding: 2, attack: "the same bomb inline with a replicate request", performedBy: "layer-bomb.ts layerBomb (inline)",
    expected: "refused", because: "INVALID_INPUT at the declared size; RSS bounded",
    run: (t, attempts) => layerBomb({ target: t.endpoint, rss: t.rss, via: "inline", attempts }),
  },
  {
    finding: 2, attack: "a source that streams past its declaration without end", performedBy: "endless-layer.ts endlessLayer",
    expected: "refused", because: "INVALID_INPUT, then hung up on; RSS bounded",
    run: (t, attempts) => endlessLayer({ target: t.endpoint, rss: t.rss, attempts }),
  },
  {
    finding: 9, attack: "image.layers for an operator's image no ICON runs", performedBy: "serve-any-image.ts serveAnyImage (icon: false)",
    expected: "refused", because: "NOT_FOUND",
    run: (t, attempts) => serveAnyImage({ target: t.endpoint, image: t.operatorImage, icon: false, attempts }),
  },
  {
    finding: 9, attack: "image.layers for an ICON's image, again and again", performedBy: "serve-any-image.ts serveAnyImage (icon: true)",
    expected: "contained", because: "served from the layer store on disk; QUOTA past imageBytesOutPerHour",
    run: (t, attempts) => (t.iconImage ? serveAnyImage({ target: t.endpoint, image: t.iconImage, icon: true, attempts }) : Promise.reject(new Error("the target runs no ICON"))),
  },
];
