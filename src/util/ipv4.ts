/** Dotted-quad IPv4, parsed one way for the config, the DHT's wire format and the topology. */

/** The address as an unsigned 32-bit number, or undefined when it is not dotted-quad IPv4. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function isIPv4(s: string): boolean {
  return parseIPv4(s) !== undefined;
}
