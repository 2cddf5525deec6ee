/** A home router's port-mapping service in memory, for the tests of src/nat (the PortMapper seam). */
import type { PortMapper, Protocol } from "../../src/nat/port-mapper.ts";

/** Holds mappings in a map; `taken` ports are refused as UPnP's 718, `shift` moves what it grants. */
export function fakeRouter(o: { taken?: number[]; shift?: number } = {}) {
  const held = new Map<string, number>();
  const calls: string[] = [];
  const mapper: PortMapper = {
    via: "upnp",
    gateway: "http://192.168.1.1:5000/rootDesc.xml",
    externalAddress: async () => "6.0.3.2",
    async map(p: Protocol, internal: number, external: number, lifetimeSec: number) {
      calls.push(`map ${p} ${internal}->${external}`);
      if (o.taken?.includes(external)) throw Object.assign(new Error("ConflictInMappingEntry"), { upnpCode: "718" });
      held.set(`${p}/${external + (o.shift ?? 0)}`, internal);
      return { externalPort: external + (o.shift ?? 0), lifetimeSec };
    },
    async unmap(p: Protocol, _internal: number, external: number) {
      calls.push(`unmap ${p} ${external}`);
      held.delete(`${p}/${external}`);
    },
    close() {},
  };
  return { mapper, held, calls };
}
