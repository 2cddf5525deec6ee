/**
 * The cases of `icon bench migrate`: thesis 4.1's direct, hot and cold, and what users meet besides
 * (issue 13): a first contact, a warm replica, a cold migration of an app with a real dependency layer,
 * and the same with IPO's registry. Each case says how a sample is prepared, in the words the report
 * prints, and does exactly that; its goal is a ratio to F (or to the cold floor) of the median.
 */
import type { MigrationLab, NodeSetup } from "../../lab/lab.ts";

export const CASES = ["first", "direct", "warm", "hot", "cold-small", "cold-large", "cold-registry"] as const;
export type Case = (typeof CASES)[number];

/** What a sample's preparation found, kept with the sample. */
export interface Prepared {
  /** first: the client's address, and of the router keys on its path how many the origin holds itself. */
  client?: string;
  pathKeys?: number;
  heldByOrigin?: number;
  /** warm: the paused replica's memory (containerMemory). */
  pausedUsageBytes?: number;
  pausedRssBytes?: number;
  pausedProcessRssBytes?: number;
}

export interface CaseSpec {
  /** The mode the edge reports for a sample of this case. */
  mode: string;
  /** The small sample app (one 11 KB layer) or the large one (a 25 MB dependency layer). */
  app: "small" | "large";
  /** The nodes pull images from a registry on the origin host. */
  registry?: boolean;
  /** Settings of both nodes for this case (ICON_*). */
  env?: Record<string, string>;
  /** The goal: median ≤ ratio × F, or × the cold floor (F + bytes shipped / bottleneck rate). */
  goal?: { ratio: number; of: "F" | "floor" };
  /** The procedure, as the report states it. */
  procedure: string;
  /** Before the dry run (after fresh nodes). */
  setup?: (lab: MigrationLab) => Promise<void>;
  /** Before each sample (the dry run is sample 0). */
  prepare: (lab: MigrationLab, k: number) => Promise<Prepared | void>;
  /** After the case's last sample. */
  teardown?: (lab: MigrationLab) => Promise<void>;
}

const COLD =
  "before each sample the edge's replica and the app's image are removed, and the edge node restarted with its " +
  "layer store emptied (it keeps the icon-runtime base, as thesis 4.1's edges did); the sample starts once the " +
  "origin holds the edge's new peer connection (a reconnection is the hot case's, not this one's); prefetch is " +
  "off (prefetchAfter 0), else the origin would offer the image to the edge ahead of need and samples would be prefetched";
/** Prefetch would turn later cold samples into prefetched ones (and fetch beside them). */
const NO_PREFETCH = { ICON_PREFETCH_AFTER: "0" };

export const CASE_SPECS: Record<Case, CaseSpec> = {
  first: {
    mode: "direct",
    app: "small",
    goal: { ratio: 1.3, of: "F" },
    procedure:
      "first contact: the replica runs on the edge, but before each sample the client's connections take their " +
      "source address from the next of its extra /24s (no trace has seen it; reused only after all of them) and " +
      "the origin forgets its cached traces and router lookups (`icon topology flush`); so the origin traces the " +
      "client's path and looks up every router key on it: from its own DHT store where that holds announcements " +
      "for the router (it can only where it is one of the k = 20 nodes closest to the key: the report counts " +
      "those), from other nodes otherwise",
    prepare: (lab, k) => lab.firstContact(k),
    teardown: (lab) => lab.ownClientNetwork(),
  },
  direct: {
    mode: "direct",
    app: "small",
    goal: { ratio: 1.05, of: "F" },
    procedure:
      "the replica runs on the edge and every sample comes from the client's own address: the origin's trace " +
      "of the client's /24 (kept 600 s) and its router lookups (kept 60 s, refreshed in the background) are " +
      "cached, as for a client of a network seen in the last minutes",
    prepare: async () => {},
  },
  warm: {
    mode: "warm",
    app: "small",
    goal: { ratio: 1.15, of: "F" },
    procedure:
      "before each sample the edge's replica is paused (`icon pause`, what its idle policy does after " +
      "idleStopSec) and the lab waits 0.5 s, so the origin has heard that it no longer runs; the sample's " +
      "replicate thaws it; its memory is read from its cgroup while it is paused",
    prepare: async (lab) => {
      const m = await lab.pauseReplica();
      return { pausedUsageBytes: m.usageBytes, pausedRssBytes: m.rssBytes, pausedProcessRssBytes: m.processRssBytes };
    },
  },
  hot: {
    mode: "hot",
    app: "small",
    goal: { ratio: 1.7, of: "F" },
    procedure:
      "before each sample the edge node is restarted (SIGTERM: it stops its ICONs and keeps them, and stops " +
      "its engine; then it starts again, engine included) and the sample starts as soon as the node's local API " +
      "answers: the edge's reconnection to the origin, like the thesis's, is inside the sample",
    prepare: (lab) => lab.restartEdge(),
  },
  "cold-small": {
    mode: "cold",
    env: NO_PREFETCH,
    app: "small",
    goal: { ratio: 2.5, of: "F" },
    procedure: `${COLD}; the small app's one layer (its server, about 11 KB after zstd) rides along with the replicate request`,
    prepare: (lab) => lab.resetEdgeCold(),
  },
  "cold-large": {
    mode: "cold",
    env: NO_PREFETCH,
    app: "large",
    goal: { ratio: 1.2, of: "floor" },
    procedure: `${COLD}; the large app's layers (npm packages, 25 MB) are fetched from the origin over the peer channel, zstd level 9`,
    prepare: (lab) => lab.resetEdgeCold(),
  },
  "cold-registry": {
    mode: "registry",
    env: NO_PREFETCH,
    app: "large",
    registry: true,
    procedure:
      `IPO's way, as cold-large but the nodes pull images from a registry (Debian's docker-registry 2.8, plain HTTP, ` +
      `on the origin host; the origin's engine pushed the app and the base, and the edge pulled the base once at ` +
      `setup, so only the app's layers are pulled, gzip as Docker pushed them); ${COLD}`,
    setup: (lab) => lab.fillRegistry(),
    prepare: (lab) => lab.resetEdgeCold(),
  },
};

/** The nodes a case needs: its app, its settings, and the registry setting for cold-registry. */
export function setupOf(spec: CaseSpec, apps: { small: string; large: string }, registry?: string): Required<NodeSetup> {
  return { app: apps[spec.app], env: { ...spec.env, ...(spec.registry && registry ? { ICON_REGISTRY: registry } : {}) } };
}
