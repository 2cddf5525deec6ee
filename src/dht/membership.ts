/**
 * Who gets into the routing table. Every valid datagram updates its sender's bucket (paper §2.2), but a
 * node we have not met enters only once it has proven its id (proof.ts) from the address it uses: an
 * unknown sender of a request is pinged with WANT_PROOF first. A full bucket keeps newcomers in its
 * replacement cache and checks its least recently seen contact (paper §2.2, §4.1). A known node that shows
 * up at a new address moves only if its old address stops answering (no hijacking of contacts); one that
 * proves its id at an address of the other family is dual stack, and keeps both.
 */
import type { Clock } from "../util/clock.ts";
import { MAX_VERIFY_IN_FLIGHT } from "./constants.ts";
import { forgetOldest } from "./forget-oldest.ts";
import type { Id } from "./id.ts";
import type { Contact } from "./k-bucket.ts";
import type { RoutingTable } from "./routing-table.ts";
import type { RpcResult, RpcTarget } from "./rpc.ts";
import { toHex } from "../util/hex.ts";
import { familyOf } from "../util/ipv6.ts";

const MAX_PROVEN = 8192;
/** A proof asked of an address is not asked again for this long (its reply is on the way or lost). */
const PROOF_PENDING_MS = 3000;

export interface MembershipDeps {
  table: RoutingTable;
  clock: Clock;
  /** Sends a PING whose reply flows back through saw(). */
  ping(to: RpcTarget, wantProof: boolean): Promise<RpcResult>;
  /** A contact entered the routing table. */
  onAdded(c: Contact): void;
}

export class Membership {
  /** Ids proven at an address, also for nodes not (yet) in the table. */
  private readonly proven = new Map<string, string>();
  private readonly inFlight = new Set<string>();
  private readonly proofAsked = new Map<string, number>();

  constructor(private readonly d: MembershipDeps) {}

  /**
   * Whether a query to this node should ask for an id proof: not when the id is proven at this address,
   * nor while another query's proof request to it is still in flight (concurrent lookups ask the same nodes).
   */
  wantsProof(idHex: string, address: string, port: number): boolean {
    if (this.isProven(idHex, address, port)) return false;
    const key = `${address}:${port}`;
    const now = this.d.clock.now();
    const asked = this.proofAsked.get(key);
    if (asked !== undefined && now - asked < PROOF_PENDING_MS) return false;
    if (this.proofAsked.size >= MAX_PROVEN) this.proofAsked.clear();
    this.proofAsked.set(key, now);
    return true;
  }

  isProven(idHex: string, address: string, port: number): boolean {
    const c = this.d.table.get(idHex);
    if (c && ((c.address === address && c.port === port) || (c.other?.address === address && c.other.port === port))) return true;
    return this.proven.get(idHex) === `${address}:${port}`;
  }

  private remember(idHex: string, where: string): void {
    if (this.proven.size >= MAX_PROVEN) forgetOldest(this.proven, MAX_PROVEN >> 2);
    this.proven.set(idHex, where);
  }

  /** A valid datagram from (id, address, port); `provenNow` when it carried a valid id proof. */
  saw(id: Id, address: string, port: number, provenNow: boolean): void {
    const idHex = toHex(id);
    const where = `${address}:${port}`;
    if (provenNow) this.remember(idHex, where);
    const known = this.d.table.get(idHex);
    if (known && familyOf(known.address) !== familyOf(address)) {
      if (!(provenNow || this.proven.get(idHex) === where || (known.other?.address === address && known.other.port === port))) return this.verify(id, address, port);
      known.other = { address, port };
      return void this.d.table.heard(id, idHex, known.address, known.port, this.d.clock.now());
    }
    if (known && (known.address !== address || known.port !== port)) {
      if (provenNow || this.proven.get(idHex) === where) this.checkMove(known, address, port);
      else this.verify(id, address, port);
      return;
    }
    if (!known && !provenNow && this.proven.get(idHex) !== where) {
      this.verify(id, address, port);
      return;
    }
    const h = this.d.table.heard(id, idHex, address, port, this.d.clock.now());
    if (h.kind === "added") this.d.onAdded(h.contact);
    else if (h.kind === "replacement" && h.ping) this.checkAlive(h.ping);
  }

  /** Pings an unknown sender for a proof of its id; the reply comes back through saw(). */
  private verify(id: Id, address: string, port: number): void {
    const key = `${address}:${port}`;
    if (this.inFlight.has(key) || this.inFlight.size >= MAX_VERIFY_IN_FLIGHT) return;
    this.inFlight.add(key);
    this.d.ping({ address, port, id }, true).finally(() => this.inFlight.delete(key));
  }

  /** Pings the least recently seen contact of a full bucket; a silent one is counted and may be replaced. */
  private checkAlive(c: Contact): void {
    const key = `alive:${c.idHex}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    c.lastPinged = this.d.clock.now();
    this.d.ping(c, false).then((r) => {
      this.inFlight.delete(key);
      if (!r.ok && r.reason === "timeout") this.d.table.failed(c);
    });
  }

  /** The node proved itself at a new address: move it there only if the old address is silent. */
  private checkMove(c: Contact, address: string, port: number): void {
    const key = `move:${c.idHex}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    this.d.ping({ address: c.address, port: c.port, id: c.id }, false).then((r) => {
      this.inFlight.delete(key);
      if (r.ok) return; // the old address still answers as this node: keep it
      if (r.reason !== "timeout") return;
      this.d.table.moveContact(c, address, port, this.d.clock.now());
    });
  }

  /** An RPC to this node failed after all attempts. */
  failed(idHex: string): void {
    const c = this.d.table.get(idHex);
    if (c) this.d.table.failed(c);
  }
}
