/**
 * One small running container per ICON that holds its network namespace on the node's bridge (the pod
 * sandbox of Kubernetes): the ICON's container joins it (`container:<holder>`), so starting an ICON skips
 * Docker's network setup for a new namespace (libnetwork's setkey hook, veth, address), about half of
 * Docker's start. Holders keep running while their ICON is stopped; the node starts them at its own
 * start (prepare), and keeps one spare running, which a new ICON takes (renamed) instead of waiting for
 * one. A holder runs the pause program (pause.ts) under Docker's init, hardened as an ICON is, in a few MiB.
 */
import type { Logger } from "../../log.ts";
import type { ContainerEngine, ContainerInfo, ContainerSpec } from "../container-engine.ts";
import { ensurePauseImage, PAUSE_IMAGE } from "./pause.ts";

const HOLDER_LABEL = "icon.netns";
/** ICON names start with [a-z0-9]: the spare's name is never an ICON's holder's. */
const SPARE = "icon-net--spare";
/** A taken spare is replaced after this long: about when the ICON that took it is ready. */
const REFILL_AFTER_MS = 1000;
export const holderName = (icon: string) => `icon-net-${icon}`;

export interface Holder {
  id: string;
  address?: string;
  address6?: string;
}

export class NetnsHolders {
  /** ICON name → its holder, once running (dropped when it exits). */
  private readonly held = new Map<string, Promise<Holder>>();
  private spare?: Promise<Holder | undefined>;
  private image?: Promise<void>;
  private refill?: ReturnType<typeof setTimeout>;
  private closed = false;

  constructor(
    private readonly engine: ContainerEngine,
    /** The Docker network on the node's bridge. */
    private readonly network: string,
    private readonly ipv6: boolean,
    private readonly log: Logger,
  ) {}

  /** The ICON's holder, running: found, started, the spare renamed, or a new one. */
  ensure(icon: string): Promise<Holder> {
    let p = this.held.get(icon);
    if (!p) {
      p = this.bring(icon);
      this.held.set(icon, p);
      p.catch(() => this.held.get(icon) === p && this.held.delete(icon));
    }
    return p;
  }

  private async bring(icon: string): Promise<Holder> {
    const name = holderName(icon);
    const found = await this.engine.inspectContainer(name);
    if (found?.running) {
      this.follow(icon, found.id);
      return this.holder(found);
    }
    if (found) return this.run(icon, found.id);
    const spare = await this.takeSpare();
    if (!spare) return this.run(icon, await this.create(name));
    await this.engine.renameContainer(spare.id, name);
    this.follow(icon, spare.id);
    // The next spare is made once this ICON has started, not while it starts.
    clearTimeout(this.refill);
    this.refill = setTimeout(() => void this.refillSpare(), REFILL_AFTER_MS).unref();
    return spare;
  }

  /**
   * Starts the holder if it is not running; with an ICON's name, follows it. A holder holds nothing but its
   * namespace, so one that will not start is made anew: right after an engine restart, containerd can refuse
   * a container the engine stopped on its way down ("cannot start a stopped process"; seen in 1 of 64 hot
   * starts). The ICON's own container, which joined the old holder, is then made anew by the yard (NOT_FOUND).
   */
  private async run(icon: string | undefined, id: string): Promise<Holder> {
    try {
      await this.engine.startContainer(id);
    } catch (e) {
      this.log.warn("a network holder would not start: making it anew", { holder: icon === undefined ? SPARE : holderName(icon), error: e as Error });
      await this.engine.removeContainer(id, { force: true }).catch(() => {});
      id = await this.create(icon === undefined ? SPARE : holderName(icon));
      await this.engine.startContainer(id);
    }
    const info = await this.engine.inspectContainer(id);
    if (icon !== undefined) this.follow(icon, id);
    return this.holder({ id, addresses: {}, ...info });
  }

  private holder(info: Pick<ContainerInfo, "id" | "addresses" | "addresses6">): Holder {
    return { id: info.id, address: info.addresses[this.network], address6: this.ipv6 ? info.addresses6?.[this.network] : undefined };
  }

  /** A holder that exits is brought again at the ICON's next start. */
  private follow(icon: string, id: string): void {
    const mine = this.held.get(icon);
    void this.engine.waitExit(id).catch(() => {}).finally(() => this.held.get(icon) === mine && this.held.delete(icon));
  }

  private async create(name: string): Promise<string> {
    this.image ??= ensurePauseImage(this.engine).catch((e) => {
      this.image = undefined;
      throw e;
    });
    await this.image;
    return this.engine.createContainer(holderSpec(name, this.network, this.ipv6));
  }

  private async takeSpare(): Promise<Holder | undefined> {
    const p = this.spare;
    this.spare = undefined;
    return p && (await p);
  }

  /** Makes sure one spare holder runs (in the background; a failure only costs the next new ICON time). */
  refillSpare(): Promise<Holder | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return (this.spare ??= (async () => this.run(undefined, (await this.engine.inspectContainer(SPARE))?.id ?? (await this.create(SPARE))))().catch((e) => {
      this.log.warn("could not start a spare network holder", { error: e as Error });
      return undefined;
    }));
  }

  /**
   * At node start: starts the holders of these ICONs (their engine was restarted with the node) and a
   * spare, and removes the holders of ICONs that are gone.
   */
  async prepare(icons: string[]): Promise<void> {
    for (const icon of icons) await this.ensure(icon).catch((e) => this.log.warn("could not start an ICON's network holder", { icon, error: e as Error }));
    // An ICON made meanwhile (it took the spare) keeps its holder too.
    const keep = new Set([SPARE, ...[...icons, ...this.held.keys()].map(holderName)]);
    for (const c of await this.engine.listContainers({ [HOLDER_LABEL]: "1" }))
      if (!keep.has(c.name)) await this.engine.removeContainer(c.id, { force: true });
    await this.refillSpare();
  }

  /** The node stops (its engine with it): no spare is made any more. */
  close(): void {
    this.closed = true;
    clearTimeout(this.refill);
  }

  /** The ICON is removed: so is its holder. */
  async remove(icon: string): Promise<void> {
    this.held.delete(icon);
    await this.engine.removeContainer(holderName(icon), { force: true });
  }
}

/** A holder: no capabilities, read-only, non-root, tiny limits; its namespace has IPv6 only where the bridge does. */
export function holderSpec(name: string, network: string, ipv6: boolean): ContainerSpec {
  return {
    name,
    image: PAUSE_IMAGE,
    env: {},
    labels: { [HOLDER_LABEL]: "1" },
    user: "65534:65534",
    binds: [],
    tmpfs: {},
    sysctls: ipv6 ? undefined : { "net.ipv6.conf.all.disable_ipv6": "1" },
    readOnlyRoot: true,
    capDrop: ["ALL"],
    securityOpt: ["no-new-privileges"],
    memoryBytes: 8 * 2 ** 20,
    nanoCpus: 0.1e9,
    pidsLimit: 4,
    init: true,
    network: { mode: "network", network, ...(ipv6 ? { ipv6: true as const } : {}) },
    stopTimeoutSec: 1,
  };
}
