/**
 * One k-bucket (paper §2.2): up to k contacts ordered least-recently seen first, plus a replacement cache
 * of proven contacts that arrived while the bucket was full (paper §4.1), most recently seen last.
 */
import { K, REPLACEMENT_CACHE } from "./constants.ts";
import type { Id } from "./id.ts";

export interface Contact {
  readonly id: Id;
  readonly idHex: string;
  address: string;
  port: number;
  /**
   * Where a dual-stack node also answers, in the other address family (proven like the first): a responder
   * names it to requesters of that family (membership.ts).
   */
  other?: { address: string; port: number };
  /** When the contact last answered or sent us anything (clock ms). */
  lastSeen: number;
  /** RPCs in a row that got no answer; reset by any message from the contact. */
  failures: number;
  /** When we last pinged it to check it is alive (clock ms). */
  lastPinged: number;
}

export function newContact(id: Id, idHex: string, address: string, port: number, now: number): Contact {
  return { id, idHex, address, port, lastSeen: now, failures: 0, lastPinged: 0 };
}

export class KBucket {
  readonly contacts: Contact[] = [];
  readonly replacements: Contact[] = [];
  /** When a lookup last targeted an id in this bucket's range (paper §2.3 refresh). */
  lastLookup = 0;

  constructor(readonly k = K) {}

  get full(): boolean {
    return this.contacts.length >= this.k;
  }

  /** Moves a present contact to the tail (most recently seen). */
  touch(c: Contact): void {
    const i = this.contacts.indexOf(c);
    if (i >= 0 && i !== this.contacts.length - 1) {
      this.contacts.splice(i, 1);
      this.contacts.push(c);
    }
  }

  /** Adds at the tail if there is room; false when full. */
  add(c: Contact): boolean {
    if (this.full) return false;
    this.contacts.push(c);
    return true;
  }

  /** Least recently seen contact: the one to ping when the bucket is full. */
  head(): Contact | undefined {
    return this.contacts[0];
  }

  /** Keeps c as the newest replacement candidate, dropping the oldest when the cache is full. */
  addReplacement(c: Contact): void {
    this.removeReplacement(c.idHex);
    this.replacements.push(c);
    if (this.replacements.length > REPLACEMENT_CACHE) this.replacements.shift();
  }

  /** Removes c; the most recently seen replacement takes its place. Returns the promoted contact. */
  remove(c: Contact): Contact | undefined {
    const i = this.contacts.indexOf(c);
    if (i < 0) return undefined;
    this.contacts.splice(i, 1);
    const promoted = this.replacements.pop();
    if (promoted) this.contacts.push(promoted);
    return promoted;
  }

  removeReplacement(idHex: string): void {
    const i = this.replacements.findIndex((r) => r.idHex === idHex);
    if (i >= 0) this.replacements.splice(i, 1);
  }
}
