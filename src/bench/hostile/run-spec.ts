/**
 * What `icon bench hostile` hands its attacker process: the network it attacks from (the thesis's, plus an
 * attacker host on a core router that holds many /24s), the two nodes it attacks, and what the bench lets
 * it observe of them to judge an attack: their local API, engine, process and files. Observing is the
 * bench's view (what the hostile tests read too), never a way in: every attack goes over the network, or
 * for finding 13 through the filesystem as another local user would.
 */
import type { ImageRef } from "../../peer/ops.ts";
import { clientAddress } from "../../testbed/addressing.ts";
import { thesisTopology } from "../../testbed/builtin.ts";
import type { ClientBlock } from "../../testbed/plan.ts";
import type { NetworkSpec } from "../../testbed/topology.ts";
import type { ProbeTarget } from "./probe-icon.ts";

export const ATTACKER_HOST = "ATK";
/**
 * Between the client's access (r2) and the origin's side of the network: both nodes are a few routers
 * away, and its bulk towards the origin crosses the 10 Mbit/s core link (r5-r6) the other way from the
 * images the origin ships to the edge.
 */
export const ATTACKER_ROUTER = "r4";
/**
 * The attacker's extra /24s (the testbed's clientPrefixes, routed to it as one block): one for floods
 * from one network, 20 for floods from many, one more voter, victims, DHT peers. The testbed numbers
 * one address in each; the attacker makes the whole block local (setup), so it sends from any address
 * in it, as the holder of a /24 can, and floods one /24 from 250 addresses like test/hostile/08.
 */
export const ATTACKER_PREFIXES = 24;
const PREFIX = { oneNet: 0, manyNets: 1, manyCount: 20, secondVoter: 21, victims: 22, dht: 23 } as const;

/** The thesis network with the attacker host on r4 (1 ms). */
export function hostileTopology(): NetworkSpec {
  const t = thesisTopology();
  return {
    ...t,
    source: "thesis+ATK",
    hosts: [...t.hosts, { name: ATTACKER_HOST, clientPrefixes: ATTACKER_PREFIXES }],
    links: [...t.links, { a: ATTACKER_HOST, b: ATTACKER_ROUTER, delayMs: 1 }],
  };
}

/** The attacker's addresses, by what they are for. */
export class AttackerAddresses {
  constructor(readonly primary: string, readonly block: ClientBlock | undefined) {
    if ((block?.count ?? 0) < ATTACKER_PREFIXES) throw new Error(`the attacker host needs ${ATTACKER_PREFIXES} extra /24s, it has ${block?.count ?? 0}`);
  }

  /** "a.b.c." of each of the attacker's networks: its own /24 and the extra ones. */
  networks(): string[] {
    return [this.primary, ...Array.from({ length: this.block!.count }, (_, k) => clientAddress(this.block!.prefix, k))].map((a) => a.replace(/\d+$/, ""));
  }

  /** Addresses .1 to .n of extra /24 number k. */
  private hosts(k: number, n: number, from = 1): string[] {
    const base = clientAddress(this.block!.prefix, k).replace(/\.\d+$/, "");
    return Array.from({ length: n }, (_, i) => `${base}.${from + i}`);
  }

  /** n addresses in one /24 (the floods "from one network"). */
  oneNet(n: number): string[] {
    return this.hosts(PREFIX.oneNet, n);
  }
  /** n addresses spread over 20 /24s, cycling through them. */
  manyNets(n: number): string[] {
    return Array.from({ length: n }, (_, i) => this.hosts(PREFIX.manyNets + (i % PREFIX.manyCount), 1, 1 + Math.floor(i / PREFIX.manyCount))[0]!);
  }
  /** One address in each of `n` /24s (n ≤ 2: the one-network /24 and another). */
  voters(n: number): string[] {
    return [this.hosts(PREFIX.oneNet, 1, 251)[0]!, this.hosts(PREFIX.secondVoter, 1)[0]!].slice(0, n);
  }
  /** Addresses that stand for third parties the attacker wants the nodes to hit. */
  victim(i: number): string {
    return this.hosts(PREFIX.victims, 1, 1 + i)[0]!;
  }
  /** Where the attacker's own DHT peers and newcomers sit (a /24 no flood uses). */
  dht(i: number): string {
    return this.hosts(PREFIX.dht, 1, 1 + i)[0]!;
  }
}

export type Role = "origin" | "edge";

/** A node under attack, as the attacker reaches it and as the bench observes it. */
export interface HostileTarget {
  role: Role;
  host: string;
  nodeId: string;
  ownerKey: string;
  address: string;
  dhtPort: number;
  peerPort: number;
  admission: "open" | "allowlist";
  /** Its data dir: local API socket, files (finding 13). */
  dataDir: string;
  /** Its own engine's socket: where the image attacks look for what they loaded. */
  engineSocket: string;
}

/** A probe ICON image (findings 6 and 7) the attacker serves from a `docker save` archive. */
export interface ProbeImage {
  variant: string;
  /** Its USER line, for the report. */
  user: string;
  archive: string;
  volumes: string[];
}

export interface AttackerSpec {
  targets: HostileTarget[];
  attacker: { primary: string; block?: ClientBlock };
  /** The client's address, and the routers of its path as the origin's traces see them (nearest the client first). */
  client: string;
  clientRouters: string[];
  /** The operator's engine: finding 1 checks that nothing there moved. */
  operatorEngine: string;
  /** A tag on the operator's engine (the sample ICON's), claimed by finding 1's offer. */
  operatorTag: string;
  /** Tags on the nodes' engines the image attacks try to take over. */
  victimTags: string[];
  /** The root ICON's name on the origin, and its image as a peer names it. */
  rootIcon: string;
  app: ImageRef;
  probes: ProbeImage[];
  /** Per role: what an ICON there must not reach besides the fixed ones (its node's other ICONs). */
  neighbours: Partial<Record<Role, ProbeTarget[]>>;
  /** Only these attacks (by name); default all. */
  only?: string[];
  /** Rounds of every attack; 0 (default): until stdin closes. */
  rounds?: number;
}

/** A value each node puts before the attacks (`icon dht put`): the DHT attacks check it is still read as put. */
export const CANARY_KEY = "hostile-bench-canary";
export const canaryValue = (role: Role) => `put by the ${role}`;
