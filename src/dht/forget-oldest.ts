/** Deletes the n oldest (first inserted) keys of a map: how the DHT's bounded tables make room. */
export function forgetOldest(map: Map<unknown, unknown>, n: number): void {
  for (const k of map.keys()) {
    if (n-- <= 0) break;
    map.delete(k);
  }
}
