/**
 * ImageHost on the yard's container engine: what image distribution reads and writes there.
 * Layer chains of local images are cached by image id (an image's layers never change).
 */
import type { ContainerEngine } from "../engine/container-engine.ts";
import type { ImageHost } from "./host.ts";

export function engineImageHost(engine: ContainerEngine): ImageHost {
  const chains = new Map<string, string[]>();
  return {
    async inspectImage(ref) {
      const i = await engine.inspectImage(ref);
      if (!i) return undefined;
      chains.set(i.id, i.diffIds);
      return { id: i.id, diffIds: i.diffIds, repoTags: i.repoTags };
    },
    async layerChains() {
      const ids = await engine.listImageIds();
      for (const id of chains.keys()) if (!ids.includes(id)) chains.delete(id);
      const out: string[][] = [];
      for (const id of ids) {
        let chain = chains.get(id);
        if (!chain) {
          chain = (await engine.inspectImage(id))?.diffIds;
          if (!chain) continue; // removed meanwhile
          chains.set(id, chain);
        }
        out.push(chain);
      }
      return out;
    },
    listImageIds: () => engine.listImageIds(),
    saveImage: (ref) => engine.saveImages([ref]),
    loadImage: (archive) => engine.loadImage(archive),
    removeImage: (ref) => engine.removeImage(ref),
  };
}
