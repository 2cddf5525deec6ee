/** Flags every `icon testbed` command shares, and the topology flags of the commands that bring one up. */
import { readFileSync } from "node:fs";
import { IconError } from "../../errors.ts";
import { randomTopology, thesisTopology } from "../../testbed/builtin.ts";
import { parseTopology, withLoss, withVariant, type NatKind, type NetworkSpec, type Numbering } from "../../testbed/topology.ts";
import type { Options } from "../command.ts";
import { numberFlag } from "../flags.ts";

export const NAME_OPTION = {
  name: { type: "string", arg: "NAME", doc: 'Which testbed (default: $ICON_TESTBED or "icon"); names its namespaces NAME-NODE.' },
} as const satisfies Options;

export const TOPOLOGY_OPTIONS = {
  topology: { type: "string", arg: "T", doc: "thesis (default), random, or a JSON topology file." },
  seed: { type: "string", arg: "N", doc: "Seed of the random topology (default 1)." },
  hosts: { type: "string", arg: "N", doc: "Hosts in the random topology: IEP1..IEPk, UD1..UDm (default 6)." },
  ipv6: { type: "boolean", doc: "Every link dual stack, with global-looking IPv6 addresses." },
  numbering: { type: "string", arg: "per-router|per-link", doc: "Number interfaces from each router's /29 (default) or each link's own /30." },
  nat: { type: "string", arg: "KIND@HOST", multiple: true, doc: "Put HOST behind a home router: upnp, cgnat or static (repeat, or comma-separate)." },
  firewall6: { type: "boolean", doc: "Every home router drops unsolicited inbound IPv6 (needs --ipv6); upnp ones open pinholes on request." },
} as const satisfies Options;

/** `--nat upnp@IEP2,cgnat@UD` (or the flag repeated) as [host, kind] pairs. */
export function natFlags(values: Record<string, unknown>): [string, NatKind][] {
  const raw = values.nat === undefined ? [] : ([] as unknown[]).concat(values.nat);
  return raw.flatMap((v) => String(v).split(",")).filter(Boolean).map((item) => {
    const m = item.match(/^([a-z]+)@(.+)$/);
    if (!m) throw new IconError("USAGE", `--nat ${item} is not KIND@HOST`, "Give --nat upnp@IEP2, cgnat@IEP2 or static@IEP2.");
    return [m[2]!, m[1] as NatKind];
  });
}

export function loadTopology(values: Record<string, unknown>): NetworkSpec {
  const which = String(values.topology ?? "thesis");
  let t: NetworkSpec;
  if (which === "thesis") t = thesisTopology();
  else if (which === "random") t = randomTopology({ seed: numberFlag(values, "seed", 1, { int: true }), hosts: numberFlag(values, "hosts", 6, { int: true }) });
  else {
    let text: string;
    try {
      text = readFileSync(which, "utf8");
    } catch (e) {
      throw new IconError("NOT_FOUND", `cannot read topology file ${which}: ${(e as Error).message}`, "Give --topology thesis, random or the path of a JSON topology file.");
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new IconError("INVALID_INPUT", `topology file ${which} is not JSON: ${(e as Error).message}`, 'Fix the file; README "Testbed" describes the format.');
    }
    t = parseTopology(json, which);
  }
  if (values.loss !== undefined) t = withLoss(t, Number(values.loss));
  const nat = natFlags(values);
  const firewall6 = values.firewall6 === true;
  if (values.ipv6 === true || values.numbering !== undefined || nat.length || firewall6)
    t = withVariant(t, { ipv6: values.ipv6 === true, ...(values.numbering !== undefined ? { numbering: String(values.numbering) as Numbering } : {}), nat, firewall6 });
  return t;
}
