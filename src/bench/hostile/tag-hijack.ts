/**
 * Finding 1, image side: tag hijack. A peer offers (or asks a replica of) an image of its own and
 * names it with tags the target's operator uses (`debian:12`, `icon-runtime:<version>`, their own
 * app's tag), in the request and in its `image.layers` answer. A node that loads an image under the
 * sender's tags lets `docker load` move those tags to the attacker's image.
 *
 * refused: the target never loaded the image; contained: it loaded it, and every victim tag still
 * names what it named before; succeeded: a victim tag now names the attacker's image.
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import { attackerNetwork, deliver, outcome, plainImage, serveImage, within, type AttackOutcome, type Entry } from "./image-peer.ts";

export interface TagHijackOptions {
  target: PeerEndpoint;
  /** Tags on the target the attack tries to take over. */
  victimTags: string[];
  entry: Entry;
  /** The image id `ref` names on the target's engine, if any (the bench asks the node's engine, a test its engine). */
  probe: (ref: string) => Promise<string | undefined>;
  attempts?: number;
  /** How long to watch for the image after each attempt. @default 3000 */
  watchMs?: number;
}

export async function tagHijack(o: TagHijackOptions): Promise<AttackOutcome> {
  const result = outcome(`tag-hijack (${o.entry})`, 1);
  const net = await attackerNetwork();
  try {
    for (let i = 0; i < (o.attempts ?? 1); i++) {
      const image = await plainImage({ pwned: `an attacker's image, attempt ${i} ${crypto.randomUUID()}` });
      serveImage(net, image, { repoTags: o.victimTags });
      const answer = await deliver(net, o.target, o.entry, image, o.victimTags);
      // An offer is fetched in the background: wait until the image is there (or give up), then look at the tags.
      const loaded = await within(o.watchMs ?? 3000, async () => ((await o.probe(image.id)) ? true : undefined));
      const moved: string[] = [];
      for (const tag of o.victimTags) if ((await o.probe(tag)) === image.id) moved.push(tag);
      if (moved.length) result.count("succeeded", `${moved.join(", ")} now name the attacker's image`);
      else if (loaded) result.count("contained", `loaded by id only; victim tags untouched (${answer})`);
      else result.count("refused", answer);
    }
  } finally {
    await net.stop();
  }
  return result;
}
