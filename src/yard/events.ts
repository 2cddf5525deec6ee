/**
 * A typed event emitter: the yard's transitions and other happenings, for the local API (which streams
 * them to `icon run`) and the peer protocol (which reports replica status to the parent).
 */
import type { Policy } from "./protocol.ts";
import type { StateEvent } from "./state.ts";

export interface YardEvents {
  state: StateEvent;
  /** The ICON changed its replication policy (icon.policy()). */
  policy: { name: string; policy: Policy };
  removed: { name: string };
}

type Listener<T> = (event: T) => void;

export class Emitter<E extends object> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();

  on<K extends keyof E>(type: K, fn: Listener<E[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => void set.delete(fn as Listener<never>);
  }

  emit<K extends keyof E>(type: K, event: E[K]): void {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        (fn as Listener<E[K]>)(event);
      } catch {
        // one broken subscriber must not stop the state machine or the others
      }
    }
  }
}
